package model

// SQLInstance is a SQL Server instance (a failover cluster instance when
// Clustered), reached through its network name.
type SQLInstance struct {
	NetworkName  string // lower-case FQDN of the network name
	InstanceName string // MSSQLSERVER for the default instance
	Clustered    bool
	Nodes        []*SQLNode
	Databases    map[string]bool
}

// SQLNode is one node of a failover cluster instance.
type SQLNode struct {
	Host   string // lower-case FQDN
	Status int    // 0 up, 1 down, 2 paused, 3 joining (sys.dm_os_cluster_nodes)
	Owner  bool
}

// EnsureDatabase creates a database if it does not exist. Callers hold the lock.
func (s *SQLInstance) EnsureDatabase(name string) {
	if s.Databases == nil {
		s.Databases = map[string]bool{}
	}
	s.Databases[Key(name)] = true
}

// sqlReachable reports whether the instance answers: its owner node is up.
func (e *Env) sqlReachable(s *SQLInstance) bool {
	for _, n := range s.Nodes {
		if n.Owner {
			h := e.Host(n.Host)
			return h != nil && h.Reachable && n.Status == 0
		}
	}
	return false
}
