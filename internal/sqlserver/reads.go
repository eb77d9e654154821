package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ServerInfo is the instance's identity (SERVERPROPERTY).
type ServerInfo struct {
	// ServerName is @@SERVERNAME: NETWORKNAME or NETWORKNAME\INSTANCE.
	ServerName string
	// MachineName is the network name's NetBIOS name (the virtual server).
	MachineName  string
	IsClustered  bool
	CurrentOwner string // ComputerNamePhysicalNetBIOS: the node running the instance now
	// InstanceName is MSSQLSERVER for the default instance (SQL Server returns NULL).
	InstanceName   string
	ProductVersion string
	Edition        string
}

// NodeStatus is sys.dm_os_cluster_nodes.status.
type NodeStatus int

// Node states.
const (
	NodeUp      NodeStatus = 0
	NodeDown    NodeStatus = 1
	NodePaused  NodeStatus = 2
	NodeJoining NodeStatus = 3
)

func (s NodeStatus) String() string {
	switch s {
	case NodeUp:
		return "up"
	case NodeDown:
		return "down"
	case NodePaused:
		return "paused"
	case NodeJoining:
		return "joining"
	}
	return fmt.Sprintf("unknown(%d)", int(s))
}

// ClusterNode is one node of the FCI.
type ClusterNode struct {
	Name              string // NetBIOS name
	Status            NodeStatus
	StatusDescription string
	IsCurrentOwner    bool
}

// SharedPath is a drive the FCI may keep files on.
type SharedPath struct {
	Path                  string
	OwnerNode             string
	IsClusterSharedVolume bool
}

// FailoverCluster is a full refresh of an FCI, read in one round trip.
type FailoverCluster struct {
	Server ServerInfo
	Nodes  []ClusterNode
	Paths  []SharedPath
	// StartedAt is when the instance last came online, in UTC.
	StartedAt time.Time
}

// into is query's row callback for a scan that turns the rows into a T: it
// stores the T in out.
func into[T any](out *T, scan func(*sql.Rows) (T, error)) func(*sql.Rows) error {
	return func(rows *sql.Rows) (err error) {
		*out, err = scan(rows)
		return err
	}
}

// ServerInfo reads the instance's identity.
func (c *Client) ServerInfo(ctx context.Context) (ServerInfo, error) {
	var out ServerInfo
	err := c.query(ctx, "ServerInfo", QueryServerInfo, into(&out, scanServerInfo))
	return out, err
}

// ClusterNodes reads sys.dm_os_cluster_nodes (empty when the instance is not clustered).
func (c *Client) ClusterNodes(ctx context.Context) ([]ClusterNode, error) {
	var out []ClusterNode
	err := c.query(ctx, "ClusterNodes", QueryClusterNodes, into(&out, scanNodes))
	return out, err
}

// SharedPaths reads sys.dm_io_cluster_valid_path_names.
func (c *Client) SharedPaths(ctx context.Context) ([]SharedPath, error) {
	var out []SharedPath
	err := c.query(ctx, "SharedPaths", QuerySharedPaths, into(&out, scanPaths))
	return out, err
}

// FailoverCluster reads ServerInfo, ClusterNodes and SharedPaths in one batch.
func (c *Client) FailoverCluster(ctx context.Context) (FailoverCluster, error) {
	var out FailoverCluster
	err := c.query(ctx, "FailoverCluster", QueryFailoverCluster, func(rows *sql.Rows) error {
		var err error
		if out.Server, err = scanServerInfo(rows); err != nil {
			return err
		}
		if !rows.NextResultSet() {
			return errors.New("missing the cluster nodes result set")
		}
		if out.Nodes, err = scanNodes(rows); err != nil {
			return err
		}
		if !rows.NextResultSet() {
			return errors.New("missing the shared paths result set")
		}
		if out.Paths, err = scanPaths(rows); err != nil {
			return err
		}
		if !rows.NextResultSet() {
			return errors.New("missing the start time result set")
		}
		out.StartedAt, err = scanStartTime(rows)
		return err
	})
	return out, err
}

// StartTime reads when the instance last came online (sys.dm_os_sys_info
// sqlserver_start_time), in UTC: a failover or a restart moves it.
func (c *Client) StartTime(ctx context.Context) (time.Time, error) {
	var out time.Time
	err := c.query(ctx, "StartTime", QueryStartTime, into(&out, scanStartTime))
	return out, err
}

// scanStartTime converts sqlserver_start_time from the server's local time
// to UTC with the offset between GETDATE and GETUTCDATE of the same row
// (whole quarter hours, as time zones are).
func scanStartTime(rows *sql.Rows) (time.Time, error) {
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return time.Time{}, err
		}
		return time.Time{}, errors.New("sys.dm_os_sys_info returned no row")
	}
	var start, localNow, utcNow time.Time
	if err := rows.Scan(&start, &localNow, &utcNow); err != nil {
		return time.Time{}, err
	}
	for rows.Next() {
	}
	offset := localNow.Sub(utcNow).Round(15 * time.Minute)
	return start.Add(-offset).UTC(), rows.Err()
}

// DatabaseExists reports whether a database exists.
func (c *Client) DatabaseExists(ctx context.Context, name string) (bool, error) {
	exists := false
	err := c.query(ctx, "DatabaseExists", QueryDatabaseExists, func(rows *sql.Rows) error {
		for rows.Next() {
			exists = true
		}
		return nil
	}, name)
	return exists, err
}

func scanServerInfo(rows *sql.Rows) (ServerInfo, error) {
	var out ServerInfo
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return out, err
		}
		return out, errors.New("SERVERPROPERTY returned no row")
	}
	var clustered sql.NullInt64
	var owner, instance, version, server, machine, edition sql.NullString
	if err := rows.Scan(&clustered, &owner, &instance, &version, &server, &machine, &edition); err != nil {
		return out, err
	}
	out = ServerInfo{
		ServerName: server.String, MachineName: machine.String, IsClustered: clustered.Int64 == 1,
		CurrentOwner: owner.String, InstanceName: instance.String, ProductVersion: version.String, Edition: edition.String,
	}
	if !instance.Valid || out.InstanceName == "" {
		out.InstanceName = "MSSQLSERVER"
	}
	for rows.Next() {
	}
	return out, nil
}

func scanNodes(rows *sql.Rows) ([]ClusterNode, error) {
	out := []ClusterNode{}
	for rows.Next() {
		var n ClusterNode
		var status int64
		var desc sql.NullString
		if err := rows.Scan(&n.Name, &status, &desc, &n.IsCurrentOwner); err != nil {
			return nil, err
		}
		n.Status, n.StatusDescription = NodeStatus(status), desc.String
		out = append(out, n)
	}
	return out, rows.Err()
}

func scanPaths(rows *sql.Rows) ([]SharedPath, error) {
	out := []SharedPath{}
	for rows.Next() {
		var p SharedPath
		var owner sql.NullString
		if err := rows.Scan(&p.Path, &owner, &p.IsClusterSharedVolume); err != nil {
			return nil, err
		}
		p.OwnerNode = owner.String
		out = append(out, p)
	}
	return out, rows.Err()
}
