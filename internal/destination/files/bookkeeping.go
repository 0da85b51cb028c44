package files

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/restload/restload/internal/dltstate"
	"github.com/restload/restload/internal/jsontext"
	"github.com/restload/restload/internal/schema"
)

// dlt's bookkeeping tables (_dlt_loads, _dlt_version, _dlt_pipeline_state)
// are laid out as dlt's filesystem destination lays them out (see
// dlt/destinations/impl/filesystem/filesystem.py): one JSON file per row,
// whatever the dataset's format, named so dlt finds them by listing the
// table's folder:
//
//	_dlt_loads/<schema_name>__<load_id>.jsonl
//	_dlt_version/<schema_name>__<inserted_at as a load id>__<hex of version_hash>.jsonl
//	_dlt_pipeline_state/<pipeline_name>__<_dlt_load_id>__<hex of version_hash>.jsonl
//
// A state file has the keys of dlt's state document only (dlt builds its
// StateInfo from them): no _dlt_id. The manifest lists these files as it
// lists data files, so they commit with the load.

// isBookkeeping reports whether table is one of dlt's bookkeeping tables.
func isBookkeeping(table string) bool { return dltstate.IsBookkeeping(table) }

// codecFor is the codec table's files are read with.
func (f *Files) codecFor(table string) codec {
	if isBookkeeping(table) {
		return jsonlCodec{}
	}
	return f.codec
}

// bookkeepingFile returns the file name and contents dlt gives row, a
// canonical row of bookkeeping table tb.
func bookkeepingFile(tb *schema.Table, row []any) (string, []byte, error) {
	val := func(name string) any {
		for i, c := range tb.Columns {
			if c.Name == name {
				return row[i]
			}
		}
		return nil
	}
	str := func(name string) string { s, _ := val(name).(string); return s }
	hashPath := func(name string) string {
		b, err := base64.StdEncoding.DecodeString(str(name))
		if err != nil {
			return "None" // as dlt spells a missing hash in a file name
		}
		return hex.EncodeToString(b)
	}
	var name string
	switch tb.Name {
	case dltstate.LoadsTable:
		name = str("schema_name") + "__" + str("load_id")
	case dltstate.VersionTable:
		at, _ := val("inserted_at").(time.Time)
		name = fmt.Sprintf("%s__%d.%06d__%s", str("schema_name"), at.Unix(), at.Nanosecond()/1000, hashPath("version_hash"))
	case dltstate.StateTable:
		name = str("pipeline_name") + "__" + str(schema.ColLoadID) + "__" + hashPath("version_hash")
	default:
		return "", nil, fmt.Errorf("%s is not a bookkeeping table", tb.Name)
	}
	if err := checkName(name); err != nil {
		return "", nil, err
	}
	b := []byte{'{'}
	first := true
	for i, c := range tb.Columns {
		if tb.Name == dltstate.StateTable && c.Name == schema.ColID {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, c.Name)
		b = append(b, ':')
		var err error
		if b, err = appendJSONValue(b, c, row[i]); err != nil {
			return "", nil, fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	b = append(b, "}"...)
	return name + ".jsonl", b, nil
}

func appendJSONString(b []byte, s string) []byte {
	return jsontext.AppendString(b, s)
}

// bookkeepingRows converts rows of bookkeeping table tb and returns the
// file name and contents of each (see bookkeepingFile).
func bookkeepingRows(src *normalizing, tb *schema.Table) (names []string, bodies [][]byte, err error) {
	for {
		row, err := src.next()
		if err != nil {
			return nil, nil, err
		}
		if row == nil {
			return names, bodies, nil
		}
		name, body, err := bookkeepingFile(tb, row)
		if err != nil {
			return nil, nil, err
		}
		names, bodies = append(names, name), append(bodies, body)
	}
}
