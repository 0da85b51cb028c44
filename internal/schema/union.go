package schema

// Union returns a copy of base with the tables and columns of over that
// base lacks added: a table in both keeps base's columns, in base's order
// and with base's definitions, and gets over's other columns appended; a
// table only over has is appended whole. Neither argument is changed; a nil
// argument is an empty schema. It is the one way schemas are combined: a
// run's package schema (its resources' tables over the stored ones) and a
// load's target (the stored schema, which another machine may have grown
// since, with a package's tables) alike, so no side loses a column.
func Union(base, over *Schema) *Schema {
	out := &Schema{}
	if base != nil {
		out = base.Clone()
	}
	if over == nil {
		return out
	}
	for _, t := range over.Tables {
		ot := out.Table(t.Name)
		if ot == nil {
			out.Tables = append(out.Tables, t.Clone())
			continue
		}
		for _, c := range t.Columns {
			if ot.Column(c.Name) == nil {
				cc := *c
				ot.Columns = append(ot.Columns, &cc)
			}
		}
	}
	return out
}
