package tsql

import "strings"

// Column is a column of a view or of a result set.
type Column struct {
	Name     string
	Type     Type
	Nullable bool
}

// View is a catalog view or dynamic management view: its columns in
// SQL Server's order, with the data types Microsoft documents (Doc), and the
// server permission it needs ("" for a catalog view, which filters rows by
// metadata visibility instead of failing).
type View struct {
	Schema, Name string
	Columns      []Column
	Permission   string
	Doc          string
}

// Key is schema.name in lower case.
func (v *View) Key() string { return strings.ToLower(v.Schema + "." + v.Name) }

func col(name string, t Type) Column     { return Column{Name: name, Type: t} }
func nullCol(name string, t Type) Column { return Column{Name: name, Type: t, Nullable: true} }
func cols(c ...Column) []Column          { return c }
func withCols(a []Column, b ...Column) []Column {
	return append(append([]Column(nil), a...), b...)
}

// serverPrincipalColumns are sys.server_principals' columns; sys.sql_logins
// inherits them.
var serverPrincipalColumns = cols(
	col("name", SysName),
	col("principal_id", Int),
	nullCol("sid", VarBinary(85)),
	col("type", Char(1)),
	nullCol("type_desc", NVarChar(60)),
	nullCol("is_disabled", Int), // int, not bit: compare with 0 and 1
	col("create_date", DateTime),
	col("modify_date", DateTime),
	nullCol("default_database_name", SysName),
	nullCol("default_language_name", SysName),
	nullCol("credential_id", Int),
	nullCol("owning_principal_id", Int),
	col("is_fixed_role", Bit),
)

// Catalog is every view the lab's SQL Server knows, by Key.
var Catalog = map[string]*View{}

func init() {
	for _, v := range []*View{
		{
			Schema: "sys", Name: "server_principals",
			Doc:     "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-principals-transact-sql",
			Columns: serverPrincipalColumns,
		},
		{
			Schema: "sys", Name: "sql_logins",
			Doc: "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-sql-logins-transact-sql",
			Columns: withCols(serverPrincipalColumns,
				nullCol("is_policy_checked", Bit),
				nullCol("is_expiration_checked", Bit),
				nullCol("password_hash", VarBinary(256)),
			),
		},
		{
			Schema: "sys", Name: "server_role_members",
			Doc:     "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-server-role-members-transact-sql",
			Columns: cols(col("role_principal_id", Int), col("member_principal_id", Int)),
		},
		{
			Schema: "sys", Name: "databases",
			// The columns up to is_read_committed_snapshot_on and those the
			// recovery tools read; later columns (the long tail of options) are not modelled.
			Doc: "https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-databases-transact-sql",
			Columns: cols(
				col("name", SysName),
				col("database_id", Int),
				nullCol("source_database_id", Int),
				nullCol("owner_sid", VarBinary(85)),
				col("create_date", DateTime),
				nullCol("compatibility_level", TinyInt),
				nullCol("collation_name", SysName),
				nullCol("user_access", TinyInt),
				nullCol("user_access_desc", NVarChar(60)),
				nullCol("is_read_only", Bit),
				col("is_auto_close_on", Bit),
				nullCol("is_auto_shrink_on", Bit),
				nullCol("state", TinyInt),
				nullCol("state_desc", NVarChar(60)),
				nullCol("is_in_standby", Bit),
				nullCol("is_cleanly_shutdown", Bit),
				nullCol("is_supplemental_logging_enabled", Bit),
				nullCol("snapshot_isolation_state", TinyInt),
				nullCol("snapshot_isolation_state_desc", NVarChar(60)),
				nullCol("is_read_committed_snapshot_on", Bit),
				nullCol("recovery_model", TinyInt),
				nullCol("recovery_model_desc", NVarChar(60)),
				nullCol("page_verify_option", TinyInt),
				nullCol("page_verify_option_desc", NVarChar(60)),
				nullCol("log_reuse_wait", TinyInt),
				nullCol("log_reuse_wait_desc", NVarChar(60)),
				nullCol("is_encrypted", Bit),
				nullCol("replica_id", VarBinary(16)), // uniqueidentifier in SQL Server
				nullCol("group_database_id", VarBinary(16)),
			),
		},
		{
			Schema: "sys", Name: "dm_os_cluster_nodes", Permission: "VIEW SERVER STATE",
			Doc: "https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-os-cluster-nodes-transact-sql",
			Columns: cols(
				col("NodeName", NVarChar(256)),
				col("status", Int),
				col("status_description", NVarChar(20)),
				col("is_current_owner", Bit),
			),
		},
		{
			Schema: "sys", Name: "dm_io_cluster_valid_path_names", Permission: "VIEW SERVER STATE",
			Doc: "https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-io-cluster-valid-path-names-transact-sql",
			Columns: cols(
				col("path_name", NVarChar(512)),
				nullCol("cluster_owner_node", NVarChar(64)),
				col("is_cluster_shared_volume", Bit),
			),
		},
		{
			Schema: "sys", Name: "dm_server_services", Permission: "VIEW SERVER STATE",
			Doc: "https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-server-services-transact-sql",
			Columns: cols(
				col("servicename", NVarChar(256)),
				nullCol("startup_type", Int),
				col("startup_type_desc", NVarChar(256)),
				nullCol("status", Int),
				col("status_desc", NVarChar(256)),
				col("process_id", Int),
				nullCol("last_startup_time", DateTimeOffset(7)),
				col("service_account", NVarChar(256)),
				col("filename", NVarChar(256)),
				col("is_clustered", NVarChar(1)),
				nullCol("cluster_nodename", NVarChar(256)),
				col("instant_file_initialization_enabled", NVarChar(1)),
			),
		},
		{
			Schema: "sys", Name: "dm_os_sys_info", Permission: "VIEW SERVER STATE",
			Doc: "https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-os-sys-info-transact-sql",
			Columns: cols(
				col("cpu_ticks", BigInt),
				col("ms_ticks", BigInt),
				col("cpu_count", Int),
				col("hyperthread_ratio", Int),
				col("physical_memory_kb", BigInt),
				col("virtual_memory_kb", BigInt),
				col("committed_kb", Int),
				col("committed_target_kb", Int),
				col("visible_target_kb", Int),
				col("stack_size_in_bytes", Int),
				col("os_quantum", BigInt),
				col("os_error_mode", Int),
				nullCol("os_priority_class", Int),
				col("max_workers_count", Int),
				col("scheduler_count", Int),
				col("scheduler_total_count", Int),
				col("deadlock_monitor_serial_number", Int),
				col("sqlserver_start_time_ms_ticks", BigInt),
				col("sqlserver_start_time", DateTime),
				col("affinity_type", Int),
				col("affinity_type_desc", NVarChar(60)),
				col("process_kernel_time_ms", BigInt),
				col("process_user_time_ms", BigInt),
				col("time_source", Int),
				col("time_source_desc", NVarChar(60)),
				col("virtual_machine_type", Int),
				col("virtual_machine_type_desc", NVarChar(60)),
				col("softnuma_configuration", Int),
				col("softnuma_configuration_desc", NVarChar(60)),
				col("process_physical_affinity", NVarChar(3072)),
				col("sql_memory_model", Int),
				col("sql_memory_model_desc", NVarChar(120)),
				col("socket_count", Int),
				col("cores_per_socket", Int),
				col("numa_node_count", Int),
				col("container_type", Int),
				col("container_type_desc", NVarChar(60)),
			),
		},
	} {
		Catalog[v.Key()] = v
	}
}

// LookupView returns the view schema.name (case-insensitive, as in a
// database with SQL Server's default collation).
func LookupView(schema, name string) (*View, bool) {
	v, ok := Catalog[strings.ToLower(schema+"."+name)]
	return v, ok
}

// ColumnIndex returns the index of a column by name (case-insensitive), or -1.
func (v *View) ColumnIndex(name string) int {
	for i, c := range v.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}
