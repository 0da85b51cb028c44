package normalize

import (
	"fmt"
	"sort"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// recordKey describes the current record's primary key for an error
// message: `id "f-3"`, or `org 1, id 7` for a composite key; "" when the
// resource has no primary key or the record lacks a part of it.
func (n *Normalizer) recordKey() string {
	parts := make([]string, 0, len(n.spec.PrimaryKey))
	for _, k := range n.spec.PrimaryKey {
		v, ok := n.cur[k]
		if !ok {
			v = lookupPath(n.cur, hintPath(k))
		}
		if v == nil {
			// A record without its key has none to show.
			return ""
		}
		if s, ok := v.(string); ok {
			parts = append(parts, fmt.Sprintf("%s %q", k, s))
		} else {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

// hintPath splits a hint or key name into a source path: "owner.email" and
// the column name "owner__email" both give [owner email].
func hintPath(k string) []string {
	if strings.Contains(k, ".") {
		return strings.Split(k, ".")
	}
	if strings.Contains(k, schema.PathSeparator) {
		return strings.Split(k, schema.PathSeparator)
	}
	return []string{k}
}

func (n *Normalizer) checkKey(record map[string]any) error {
	var missing []string
	for _, k := range n.spec.PrimaryKey {
		v, ok := record[k]
		if !ok {
			v = lookupPath(record, hintPath(k))
		}
		if v == nil {
			missing = append(missing, k)
		}
	}
	if missing == nil {
		return nil
	}
	var like []string
	for k, v := range record {
		if v != nil && looksLikeKey(k) {
			like = append(like, k)
		}
	}
	sort.Strings(like)
	// A field named after the resource (datasetId for datasets) is the
	// likely key: list it first and suggest it.
	e := &MissingKeyError{Keys: missing, LookLikeKeys: like}
	if len(n.spec.PrimaryKey) == 1 {
		for i, k := range like {
			if namesResource(k, n.spec.Resource) {
				copy(like[1:i+1], like[:i])
				like[0] = k
				e.Suggest = k
				break
			}
		}
	}
	return e
}

// lookupPath returns the value at path in m, matching each segment to a
// field of the same name or, failing that, to a field whose normalized name
// is the segment's (so the key "connection_id", dlt's column name, finds
// the field connectionId).
func lookupPath(m map[string]any, path []string) any {
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = obj[p]; ok {
			continue
		}
		want := schema.NormalizeIdentifier(p)
		for k, x := range obj {
			if schema.NormalizeIdentifier(k) == want {
				v = x
				break
			}
		}
	}
	return v
}

// isKey reports whether field f of the root table is a primary_key or
// merge_key column.
func (n *Normalizer) isKey(f *field) bool {
	cand := schema.ColumnPath(f.path...)
	_, pk := n.pkCols[cand]
	return pk || n.mergeCols[cand]
}

// keyValue returns v, the value of key field f of root table ts whose
// type vtyp its column's type does not take as is, as a value of that
// column: converted when nothing is lost (a numeric string into a bigint
// key, a number into a text key). Otherwise the column becomes text when
// it is fresh (nothing of it was loaded yet, no hint fixed its type) and
// every key of the table is its text, as the destination loads the values
// already written; else the record fails with a *KeyTypeError. dlt sends
// such a key to a variant column and leaves the key column NULL, which
// fails its NOT NULL at load (or, where nothing checks, makes merge append
// the record again on every run).
func (n *Normalizer) keyValue(ts *tableState, f *field, v any, vtyp schema.DataType) (any, error) {
	c := ts.t.Columns[f.col]
	f.typ = c.Type // another Normalizer of the layout may have made it text
	if out, ok := schema.Convert(v, c.Type); ok {
		return out, nil
	}
	if n.layout.fresh[c] && !f.hinted {
		if out, ok := schema.Convert(v, schema.Text); ok {
			n.warnings = append(n.warnings, fmt.Sprintf("table %q: key column %q had %s values and then a %s one: it is text, so every key keeps one type", ts.t.Name, c.Name, c.Type, vtyp))
			c.Type, f.typ = schema.Text, schema.Text
			return out, nil
		}
	}
	return nil, n.keyTypeError(ts, c.Name, c.Type, vtyp, f.hinted)
}

func (n *Normalizer) keyTypeError(ts *tableState, col string, typ, vtyp schema.DataType, hinted bool) error {
	return &KeyTypeError{Table: ts.t.Name, Column: col, Type: typ, ValueType: vtyp, Hinted: hinted}
}

// namesResource says whether the key-like field name is the resource's
// own id: datasetId, dataset_id or DatasetID for datasets (or dataset).
func namesResource(field, resource string) bool {
	f := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(field))
	r := strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(resource))
	for _, suffix := range []string{"id", "uuid", "key"} {
		if stem, ok := strings.CutSuffix(f, suffix); ok && stem != "" {
			return stem == r || stem+"s" == r || stem+"es" == r || strings.TrimSuffix(stem, "y")+"ies" == r
		}
	}
	return false
}

// looksLikeKey says whether a field name looks like an identifier field.
func looksLikeKey(name string) bool {
	l := strings.ToLower(name)
	return l == "id" || l == "uuid" || l == "key" ||
		strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "ID") ||
		strings.HasSuffix(l, "_id") || strings.HasSuffix(l, "-id") || strings.HasSuffix(l, "uuid")
}
