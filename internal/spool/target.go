package spool

// Target is where a run loads: its pipeline, destination (as
// destination.Identity names it) and dataset.
type Target struct {
	Pipeline    string
	Destination string
	Dataset     string
}

// For reports whether the package is to be loaded into t: it was extracted
// by t's pipeline for t's dataset, and for t's destination (a package
// that records no destination, written before packages recorded it, is
// taken to be for any). A package for another place holds rows that
// place has not got; loading them here would put them where they were not
// asked for, and leave them missing there.
func (m Manifest) For(t Target) bool {
	return m.Pipeline == t.Pipeline && m.Dataset == t.Dataset && (m.Destination == "" || m.Destination == t.Destination)
}

// ResourceNames lists the resources whose rows the package holds.
func (m Manifest) ResourceNames() []string {
	out := make([]string, len(m.Resources))
	for i, r := range m.Resources {
		out[i] = r.Name
	}
	return out
}
