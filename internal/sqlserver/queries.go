package sqlserver

// The SQL texts the adapter sends, and nothing else. Values travel only as
// parameters (@p1, @p2); a login or role name becomes an identifier only on
// the server, through QUOTENAME inside a parameterised dynamic statement, so
// no configuration value is ever spliced into SQL text. catalog_test.go
// compiles each against SQL Server's documented catalog (the lab's T-SQL
// engine) and checks that the code sends no other text.

// QueryServerInfo reads the instance's identity in one row. InstanceName is
// NULL for the default instance; ComputerNamePhysicalNetBIOS is the node that
// currently owns a failover cluster instance.
// https://learn.microsoft.com/sql/t-sql/functions/serverproperty-transact-sql
const QueryServerInfo = `SELECT
  CAST(SERVERPROPERTY('IsClustered') AS int) AS is_clustered,
  CAST(SERVERPROPERTY('ComputerNamePhysicalNetBIOS') AS nvarchar(128)) AS physical_node,
  CAST(SERVERPROPERTY('InstanceName') AS nvarchar(128)) AS instance_name,
  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
  CAST(SERVERPROPERTY('ServerName') AS nvarchar(256)) AS server_name,
  CAST(SERVERPROPERTY('MachineName') AS nvarchar(128)) AS machine_name,
  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition`

// QueryClusterNodes lists the FCI's nodes (empty when not clustered; needs
// VIEW SERVER STATE).
// https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-os-cluster-nodes-transact-sql
const QueryClusterNodes = `SELECT NodeName, status, status_description, is_current_owner
FROM sys.dm_os_cluster_nodes
ORDER BY NodeName`

// QuerySharedPaths lists the shared drives the FCI may use (cluster disks and
// Cluster Shared Volumes; an SMB share is not listed).
// https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-io-cluster-valid-path-names-transact-sql
const QuerySharedPaths = `SELECT path_name, cluster_owner_node, is_cluster_shared_volume
FROM sys.dm_io_cluster_valid_path_names
ORDER BY path_name`

// QueryStartTime reads when the instance last came online (needs VIEW
// SERVER STATE). sqlserver_start_time is in the server's local time; GETDATE
// and GETUTCDATE, read in the same row, give its offset from UTC.
// https://learn.microsoft.com/sql/relational-databases/system-dynamic-management-views/sys-dm-os-sys-info-transact-sql
const QueryStartTime = `SELECT sqlserver_start_time, GETDATE() AS local_now, GETUTCDATE() AS utc_now
FROM sys.dm_os_sys_info`

// QueryFailoverCluster is the four reads above in one batch: a full FCI
// refresh in one round trip, four result sets.
const QueryFailoverCluster = QueryServerInfo + ";\n" + QueryClusterNodes + ";\n" + QuerySharedPaths + ";\n" + QueryStartTime + ";"

// QueryDatabaseExists returns a row when the database exists.
const QueryDatabaseExists = `SELECT name, state_desc FROM sys.databases WHERE name = @p1`

// QueryLogin returns a login (first result set) and its server roles (second).
const QueryLogin = `SELECT p.name, p.type_desc, p.principal_id, p.is_disabled, p.default_database_name
FROM sys.server_principals AS p
WHERE p.name = @p1 AND p.type IN ('S', 'U', 'G');
SELECT r.name
FROM sys.server_role_members AS m
JOIN sys.server_principals AS r ON r.principal_id = m.role_principal_id
JOIN sys.server_principals AS p ON p.principal_id = m.member_principal_id
WHERE p.name = @p1
ORDER BY r.name;`

// QueryAllLogins returns every login (first result set) and every server
// role membership of a login (second): a plan's refresh of all its
// bastion_sql_login resources in one round trip (Client.CachedLogin).
const QueryAllLogins = `SELECT p.name, p.type_desc, p.principal_id, p.is_disabled, p.default_database_name
FROM sys.server_principals AS p
WHERE p.type IN ('S', 'U', 'G');
SELECT p.name, r.name
FROM sys.server_role_members AS m
JOIN sys.server_principals AS r ON r.principal_id = m.role_principal_id
JOIN sys.server_principals AS p ON p.principal_id = m.member_principal_id
WHERE p.type IN ('S', 'U', 'G')
ORDER BY p.name, r.name;`

// StmtCreateWindowsLogin creates a Windows login. QUOTENAME returns NULL for a
// name over 128 characters, and sp_executesql would run NULL silently: THROW.
const StmtCreateWindowsLogin = `DECLARE @sql nvarchar(max) = N'CREATE LOGIN ' + QUOTENAME(@p1) + N' FROM WINDOWS';
IF @sql IS NULL THROW 50000, N'The name is not a valid identifier.', 1;
EXEC sys.sp_executesql @sql;`

// StmtDropLogin drops a login.
const StmtDropLogin = `DECLARE @sql nvarchar(max) = N'DROP LOGIN ' + QUOTENAME(@p1);
IF @sql IS NULL THROW 50000, N'The name is not a valid identifier.', 1;
EXEC sys.sp_executesql @sql;`

// StmtAddRoleMember adds login @p1 to server role @p2 (no error when it is a member already).
const StmtAddRoleMember = `DECLARE @sql nvarchar(max) = N'ALTER SERVER ROLE ' + QUOTENAME(@p2) + N' ADD MEMBER ' + QUOTENAME(@p1);
IF @sql IS NULL THROW 50000, N'The name is not a valid identifier.', 1;
EXEC sys.sp_executesql @sql;`

// StmtDropRoleMember removes login @p1 from server role @p2 (no error when it is not a member).
const StmtDropRoleMember = `DECLARE @sql nvarchar(max) = N'ALTER SERVER ROLE ' + QUOTENAME(@p2) + N' DROP MEMBER ' + QUOTENAME(@p1);
IF @sql IS NULL THROW 50000, N'The name is not a valid identifier.', 1;
EXEC sys.sp_executesql @sql;`

// Statements is every SQL text the adapter sends.
var Statements = []string{
	QueryServerInfo, QueryClusterNodes, QuerySharedPaths, QueryStartTime, QueryFailoverCluster,
	QueryDatabaseExists, QueryLogin, QueryAllLogins,
	StmtCreateWindowsLogin, StmtDropLogin, StmtAddRoleMember, StmtDropRoleMember,
}
