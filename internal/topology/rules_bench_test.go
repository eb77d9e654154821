package topology

import (
	"fmt"
	"testing"
)

// bigTopology is a bastion of n servers: n-12 DCs across 25 sites (the first
// holding the FSMO roles), a two-node SQL FCI and ten MIM nodes.
func bigTopology(n int) Topology {
	t := MinimalHATopology()
	domain := t.Domain.DNSName
	t.DomainControllers = nil
	t.Backups = nil
	dcs := n - 12
	for i := 0; i < dcs; i++ {
		dc := DomainController{
			Host:          fmt.Sprintf("priv-dc%04d.%s", i, domain),
			Site:          fmt.Sprintf("Site-%02d", i%25),
			GlobalCatalog: i%3 == 0,
			Addresses:     []string{fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256)},
		}
		switch i {
		case 0:
			dc.FSMORoles = []string{"SchemaMaster", "DomainNamingMaster", "PDCEmulator"}
		case 1:
			dc.FSMORoles = []string{"RIDMaster", "InfrastructureMaster"}
		}
		t.DomainControllers = append(t.DomainControllers, dc)
	}
	t.Backups = freshBackups(domain, t.DomainControllers...)
	base := t.MIMNodes[0]
	t.MIMNodes = nil
	for i := 0; i < 10; i++ {
		node := base
		node.Host = fmt.Sprintf("priv-app%02d.%s", i, domain)
		node.ServiceName = fmt.Sprintf("PRIV-APP%02d", i)
		t.MIMNodes = append(t.MIMNodes, node)
	}
	return t
}

// BenchmarkEvaluate runs every HA rule over bastions of 100 to 1,000 servers.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{100, 200, 400, 1000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) { benchEvaluate(b, n) })
	}
}

func benchEvaluate(b *testing.B, n int) {
	t := bigTopology(n)
	b.ReportAllocs()
	for b.Loop() {
		r := Evaluate(t)
		if len(r.RecoveryOrder) == 0 {
			b.Fatal("no recovery order for a 1,000-server bastion")
		}
	}
}
