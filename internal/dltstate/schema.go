package dltstate

import (
	"encoding/json"
	"strings"

	"github.com/restload/restload/internal/schema"
)

// Engine versions of what dlt 1.26 writes: a stored schema
// (SCHEMA_ENGINE_VERSION) and a pipeline state (PIPELINE_STATE_ENGINE_VERSION).
const (
	SchemaEngineVersion = 11
	StateEngineVersion  = 4
)

// Names of dlt's bookkeeping tables.
const (
	LoadsTable   = "_dlt_loads"
	VersionTable = "_dlt_version"
	StateTable   = "_dlt_pipeline_state"
)

// IsBookkeeping reports whether name is a dlt bookkeeping table (dlt
// reserves the "_dlt_" prefix for them).
func IsBookkeeping(name string) bool { return strings.HasPrefix(name, "_dlt_") }

// newSchemaJSON is a new stored schema as dlt 1.26 starts one (see
// dlt/common/schema/utils.py: version_table, loads_table,
// pipeline_state_table, and the default settings and normalizers).
const newSchemaJSON = `{"version":1,"version_hash":"","engine_version":11,"name":"","tables":{` +
	`"_dlt_version":{"name":"_dlt_version","columns":{"version":{"name":"version","data_type":"bigint","nullable":false},"engine_version":{"name":"engine_version","data_type":"bigint","nullable":false},"inserted_at":{"name":"inserted_at","data_type":"timestamp","nullable":false},"schema_name":{"name":"schema_name","data_type":"text","nullable":false},"version_hash":{"name":"version_hash","data_type":"text","nullable":false},"schema":{"name":"schema","data_type":"text","nullable":false}},"write_disposition":"skip","resource":"_dlt_version","description":"Created by DLT. Tracks schema updates"},` +
	`"_dlt_loads":{"name":"_dlt_loads","columns":{"load_id":{"name":"load_id","data_type":"text","nullable":false,"precision":64},"schema_name":{"name":"schema_name","data_type":"text","nullable":true},"status":{"name":"status","data_type":"bigint","nullable":false},"inserted_at":{"name":"inserted_at","data_type":"timestamp","nullable":false},"schema_version_hash":{"name":"schema_version_hash","data_type":"text","nullable":true}},"write_disposition":"skip","resource":"_dlt_loads","description":"Created by DLT. Tracks completed loads"},` +
	`"_dlt_pipeline_state":{"columns":{"version":{"name":"version","data_type":"bigint","nullable":false},"engine_version":{"name":"engine_version","data_type":"bigint","nullable":false},"pipeline_name":{"name":"pipeline_name","data_type":"text","nullable":false},"state":{"name":"state","data_type":"text","nullable":false},"created_at":{"name":"created_at","data_type":"timestamp","nullable":false},"version_hash":{"name":"version_hash","data_type":"text","nullable":true},"_dlt_load_id":{"name":"_dlt_load_id","data_type":"text","nullable":false,"precision":64},"_dlt_id":{"name":"_dlt_id","data_type":"text","nullable":false,"unique":true,"row_key":true}},"write_disposition":"append","file_format":"preferred","name":"_dlt_pipeline_state","resource":"_dlt_pipeline_state","x-normalizer":{"seen-data":true}}},` +
	`"settings":{"detections":["iso_timestamp"],"default_hints":{"not_null":["_dlt_id","_dlt_root_id","_dlt_parent_id","_dlt_list_idx","_dlt_load_id"],"parent_key":["_dlt_parent_id"],"root_key":["_dlt_root_id"],"unique":["_dlt_id"],"row_key":["_dlt_id"]}},` +
	`"normalizers":{"names":"snake_case","json":{"module":"dlt.common.normalizers.json.relational"}},"previous_hashes":[]}`

// NewSchema returns a new stored schema named name, as dlt starts one:
// its settings, normalizers and the bookkeeping tables, without a hash
// yet (see BumpSchemaVersion).
func NewSchema(name string) *Object {
	v, err := Parse([]byte(newSchemaJSON))
	if err != nil {
		panic("dltstate: new schema: " + err.Error()) // a constant
	}
	o := v.(*Object)
	o.Set("name", name)
	o.Delete("version_hash")
	return o
}

// ParseSchema decodes a stored schema (_dlt_version.schema).
func ParseSchema(b []byte) (*Object, error) {
	var o Object
	if err := o.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return &o, nil
}

// xSource is the extension key (dlt keeps keys starting with "x-") under
// which restload records the source path a table or column was named
// from when its name had to change to avoid a collision.
const xSource = "x-restload-source"

// AddTables adds to doc the tables of s it lacks and the columns its
// tables lack, in s's order and with dlt's hints, so the stored schema
// stays dlt's: what dlt or an earlier run stored is kept as it is. A
// merge table's root id propagates to its children (dlt's
// normalizers.json.config.propagation). It reports whether doc changed.
func AddTables(doc *Object, s *schema.Schema) bool {
	tables := doc.Ensure("tables")
	changed := false
	for _, t := range s.Tables {
		if IsBookkeeping(t.Name) {
			continue
		}
		dt := tables.Obj(t.Name)
		if dt == nil {
			dt = NewObject()
			dt.Set("name", t.Name)
			dt.Set("columns", NewObject())
			if t.Parent != "" {
				dt.Set("parent", t.Parent)
			} else {
				if t.WriteDisposition != "" {
					dt.Set("write_disposition", t.WriteDisposition)
				}
				dt.Set("resource", t.Resource)
			}
			if t.Source != "" {
				dt.Set(xSource, t.Source)
			}
			seen := NewObject()
			seen.Set("seen-data", true)
			dt.Set("x-normalizer", seen)
			tables.Set(t.Name, dt)
			changed = true
		}
		if len(t.References) > 0 {
			if _, ok := dt.Get("references"); !ok {
				dt.Set("references", referencesJSON(t.References))
				changed = true
			}
		}
		cols := dt.Ensure("columns")
		for _, c := range t.Columns {
			if cols.Obj(c.Name) != nil {
				continue
			}
			cols.Set(c.Name, columnObject(c))
			changed = true
		}
		if t.Parent == "" && t.WriteDisposition == schema.Merge && len(s.Children(t.Name)) > 0 {
			prop := doc.Ensure("normalizers").Ensure("json").Ensure("config").Ensure("propagation").Ensure("tables")
			if prop.Obj(t.Name) == nil {
				p := NewObject()
				p.Set(schema.ColID, schema.ColRootID)
				prop.Set(t.Name, p)
				changed = true
			}
		}
	}
	return changed
}

// columnObject is c as a dlt column schema.
func columnObject(c *schema.Column) *Object {
	o := NewObject()
	o.Set("name", c.Name)
	if c.Type != "" {
		o.Set("data_type", string(c.Type))
	}
	// dlt's default_hints.not_null covers its row-linking columns.
	notNull := c.PrimaryKey || c.Name == schema.ColID || c.Name == schema.ColLoadID ||
		c.Name == schema.ColParentID || c.Name == schema.ColListIdx || c.Name == schema.ColRootID
	o.Set("nullable", c.Nullable && !notNull)
	if c.PrimaryKey {
		o.Set("primary_key", true)
	}
	if c.MergeKey {
		o.Set("merge_key", true)
	}
	if c.VariantOf != "" {
		o.Set("variant", true)
	}
	if c.Precision != nil {
		o.Set("precision", int64(*c.Precision))
	}
	if c.Scale != nil {
		o.Set("scale", int64(*c.Scale))
	}
	if c.Timezone != nil {
		o.Set("timezone", *c.Timezone)
	}
	if c.Unique && c.Name != schema.ColID {
		o.Set("unique", true)
	}
	switch c.Name {
	case schema.ColID:
		o.Set("unique", true)
		o.Set("row_key", true)
	case schema.ColParentID:
		o.Set("parent_key", true)
	case schema.ColRootID:
		o.Set("root_key", true)
	}
	if c.Source != "" {
		o.Set(xSource, c.Source)
	}
	return o
}

// dataTypes maps dlt's data types to restload's; a type restload has no
// equivalent of is read as text.
var dataTypes = map[string]schema.DataType{
	"text": schema.Text, "bigint": schema.BigInt, "double": schema.Double, "bool": schema.Bool,
	"timestamp": schema.Timestamp, "date": schema.Date, "decimal": schema.Decimal, "wei": schema.Decimal,
	"json": schema.JSON, "complex": schema.JSON, "time": schema.Time, "binary": schema.Binary,
}

// intHint returns dc's integer hint key, nil when it is not set.
func intHint(dc *Object, key string) *int {
	if _, ok := dc.Get(key); !ok {
		return nil
	}
	n := int(dc.Int(key))
	return &n
}

// ToSchema returns doc's data tables (not dlt's bookkeeping) as
// restload's schema, parents before children; a child table takes its
// root's resource and write disposition. Columns without a data type
// (dlt's incomplete columns) are left out.
func ToSchema(doc *Object) *schema.Schema {
	out := &schema.Schema{Name: doc.Str("name"), Version: int(doc.Int("version"))}
	tables := doc.Obj("tables")
	byName := map[string]*schema.Table{}
	var pending []*schema.Table
	for _, name := range tables.Keys() {
		dt := tables.Obj(name)
		if dt == nil || IsBookkeeping(name) {
			continue
		}
		t := &schema.Table{Name: name, Parent: dt.Str("parent"), Resource: dt.Str("resource"),
			WriteDisposition: dt.Str("write_disposition"), Source: dt.Str(xSource)}
		if t.Resource == "" && t.Parent == "" {
			t.Resource = name
		}
		t.References = referencesOf(dt)
		cols := dt.Obj("columns")
		for _, cn := range cols.Keys() {
			dc := cols.Obj(cn)
			typ, ok := dc.Get("data_type")
			if !ok {
				continue
			}
			ts, _ := typ.(string)
			dtyp, known := dataTypes[ts]
			if !known {
				dtyp = schema.Text
			}
			c := &schema.Column{Name: cn, Type: dtyp, Nullable: flag(dc, "nullable", true),
				PrimaryKey: flag(dc, "primary_key", false), MergeKey: flag(dc, "merge_key", false),
				Precision: intHint(dc, "precision"), Scale: intHint(dc, "scale"),
				Unique: flag(dc, "unique", false) && cn != schema.ColID,
				System: strings.HasPrefix(cn, "_dlt_"), Source: dc.Str(xSource)}
			if _, ok := dc.Get("timezone"); ok {
				tz := flag(dc, "timezone", true)
				c.Timezone = &tz
			}
			if flag(dc, "variant", false) {
				if i := strings.LastIndex(cn, "__v_"); i > 0 {
					c.VariantOf = cn[:i]
				}
			}
			t.Columns = append(t.Columns, c)
		}
		byName[name] = t
		pending = append(pending, t)
	}
	// Parents before children, children in stored order.
	placed := map[string]bool{}
	for len(pending) > 0 {
		var rest []*schema.Table
		for _, t := range pending {
			if t.Parent == "" || placed[t.Parent] || byName[t.Parent] == nil {
				out.Tables = append(out.Tables, t)
				placed[t.Name] = true
			} else {
				rest = append(rest, t)
			}
		}
		if len(rest) == len(pending) { // a parent cycle: keep what is left as it is
			out.Tables = append(out.Tables, rest...)
			break
		}
		pending = rest
	}
	for _, t := range out.Tables {
		if t.Parent == "" {
			continue
		}
		root := t
		for range len(byName) { // bounded: a stored parent cycle must not hang
			p := byName[root.Parent]
			if root.Parent == "" || p == nil {
				break
			}
			root = p
		}
		t.Resource, t.WriteDisposition = root.Resource, root.WriteDisposition
	}
	return out
}

func flag(o *Object, key string, def bool) bool {
	v, ok := o.Get(key)
	if !ok {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		return def
	}
	return b
}

var _ json.Marshaler = (*Object)(nil)

// referencesJSON is rs as dlt's table "references" hint.
func referencesJSON(rs []schema.Reference) []any {
	out := make([]any, len(rs))
	for i, r := range rs {
		o := NewObject()
		o.Set("columns", strings2any(r.Columns))
		o.Set("referenced_table", r.ReferencedTable)
		o.Set("referenced_columns", strings2any(r.ReferencedColumns))
		if r.Label != "" {
			o.Set("label", r.Label)
		}
		if r.Cardinality != "" {
			o.Set("cardinality", r.Cardinality)
		}
		out[i] = o
	}
	return out
}

// referencesOf reads dt's "references" hint; entries it cannot read are
// left out.
func referencesOf(dt *Object) []schema.Reference {
	v, _ := dt.Get("references")
	list, _ := v.([]any)
	var out []schema.Reference
	for _, e := range list {
		o, ok := e.(*Object)
		if !ok {
			continue
		}
		r := schema.Reference{ReferencedTable: o.Str("referenced_table"), Label: o.Str("label"), Cardinality: o.Str("cardinality")}
		r.Columns = anyStrings(o, "columns")
		r.ReferencedColumns = anyStrings(o, "referenced_columns")
		if r.ReferencedTable != "" && len(r.Columns) > 0 {
			out = append(out, r)
		}
	}
	return out
}

func strings2any(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func anyStrings(o *Object, key string) []string {
	v, _ := o.Get(key)
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
