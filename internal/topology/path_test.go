package topology

import "testing"

func TestPathString(t *testing.T) {
	for _, c := range []struct {
		p    Path
		want string
	}{
		{nil, ""},
		{AttrPath("sql").Name("nodes"), "sql.nodes"},
		{AttrPath("mim_nodes").Index(1).Name("host"), "mim_nodes[1].host"},
		{AttrPath("dns_servers").Key(`a"b`), `dns_servers["a\"b"]`},
		{AttrPath("sql").Name("data_directories").Index(0), "sql.data_directories[0]"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.p, got, c.want)
		}
	}
	base := AttrPath("mim_nodes")
	a, b := base.Index(0), base.Index(1)
	if a.String() != "mim_nodes[0]" || b.String() != "mim_nodes[1]" || base.String() != "mim_nodes" {
		t.Errorf("steps share storage: %s %s %s", base, a, b)
	}
}
