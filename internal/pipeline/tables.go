package pipeline

import (
	"strconv"
	"strings"
	"sync"

	"github.com/restload/restload/internal/config"
	"github.com/restload/restload/internal/normalize"
	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// tableGroup is the loaded resources of a run that write the same tables:
// the same table_name (dlt allows it, with different shapes), or one's
// table named under another's (a child table users__tags and a resource
// whose table_name is users__tags). One normalize.Layout owns those
// tables' columns in the run, so every resource's rows follow the same
// column positions, names and types; mu serializes the group's
// normalizers and guards own. A resource alone in its group (the common
// case) runs as if groups did not exist.
type tableGroup struct {
	mu     sync.Mutex
	own    *schema.Schema
	layout *normalize.Layout
}

// runTables is the table groups of a run's loaded resources.
type runTables struct {
	groups map[string]*tableGroup // by resource name
	// files tags the spool files of resources that share their group: each
	// resource's rows stay in files of their own (see spool.FileName),
	// loaded as that resource's.
	files map[string]string
	// targets is where each resource's rows go, by resource name.
	targets map[string]spool.ResourceTarget
}

// groupTables groups resources (the ones loaded) by the tables they write,
// each group's schema holding its tables of stored (by name, whichever
// resource made them; or made by one of its resources).
func groupTables(p *config.Pipeline, stored *schema.Schema, resources []*config.Resource) *runTables {
	// Union-find over resources: i and j share when their tables overlap.
	parent := make([]int, len(resources))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, a := range resources {
		for j := i + 1; j < len(resources); j++ {
			if overlap(targetOf(a).Table, targetOf(resources[j]).Table) {
				parent[find(j)] = find(i)
			}
		}
	}
	rt := &runTables{groups: map[string]*tableGroup{}, files: map[string]string{}, targets: map[string]spool.ResourceTarget{}}
	members := map[int][]*config.Resource{}
	for i, r := range resources {
		members[find(i)] = append(members[find(i)], r)
	}
	index := map[string]int{}
	for i := range p.Source.Resources {
		index[p.Source.Resources[i].Name] = i
	}
	for _, rs := range members {
		own := &schema.Schema{Name: p.Pipeline.Dataset}
		if stored != nil {
			for _, t := range stored.Tables {
				if inGroup(t, rs) {
					own.Tables = append(own.Tables, t.Clone())
				}
			}
		}
		g := &tableGroup{own: own, layout: normalize.NewLayout(own)}
		for _, r := range rs {
			rt.groups[r.Name] = g
			if len(rs) > 1 {
				rt.files[r.Name] = "r" + strconv.Itoa(index[r.Name])
			}
			t := targetOf(r)
			t.Files = rt.files[r.Name]
			rt.targets[r.Name] = t
		}
	}
	return rt
}

// overlap reports whether tables named a and b, with their child tables,
// may share a name.
func overlap(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+schema.PathSeparator) || strings.HasPrefix(b, a+schema.PathSeparator)
}

// inGroup reports whether stored table t belongs to the group of rs.
func inGroup(t *schema.Table, rs []*config.Resource) bool {
	for _, r := range rs {
		if t.Resource == r.Name || overlap(t.Name, targetOf(r).Table) {
			return true
		}
	}
	return false
}

// target is where r, one of the run's loaded resources, is loaded.
func (rt *runTables) target(r *config.Resource) spool.ResourceTarget {
	return rt.targets[r.Name]
}

// ownTables returns the tables of s that hold r's rows: its root table and
// the root's descendants (s is r's group's schema, which may hold other
// tables).
func ownTables(r *config.Resource, s *schema.Schema) *schema.Schema {
	out := &schema.Schema{Name: s.Name}
	root := s.Table(targetOf(r).Table)
	if root == nil {
		return out
	}
	out.Tables = append(out.Tables, root)
	out.Tables = append(out.Tables, s.Children(root.Name)...)
	return out
}
