package topology

import (
	"strconv"
	"strings"
)

// Path points at the input a violation is about, in Topology's snake_case
// names: a root attribute, then attribute names, list indexes and map keys.
// The provider turns it into its schema path step by step; nothing parses
// its String form back.
type Path []PathStep

// PathStep is one step of a Path: exactly one of a name, a list index
// (IsIndex) or a map key (IsKey).
type PathStep struct {
	Name    string
	Index   int
	IsIndex bool
	Key     string
	IsKey   bool
}

// AttrPath starts a Path at a root attribute.
func AttrPath(name string) Path { return Path{{Name: name}} }

func (p Path) with(s PathStep) Path { return append(append(Path(nil), p...), s) }

// Name steps into a nested attribute.
func (p Path) Name(name string) Path { return p.with(PathStep{Name: name}) }

// Index steps into a list element.
func (p Path) Index(i int) Path { return p.with(PathStep{Index: i, IsIndex: true}) }

// Key steps into a map element.
func (p Path) Key(k string) Path { return p.with(PathStep{Key: k, IsKey: true}) }

// String renders the path for people: mim_nodes[1].host, dns_servers["h"].
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.IsIndex:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		case s.IsKey:
			b.WriteString("[" + strconv.Quote(s.Key) + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Name)
		}
	}
	return b.String()
}
