package normalize

import (
	"bytes"
	"crypto/sha3"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/restload/restload/internal/schema"
)

// version gives root row vals of ts (Spec.Scd2) its validity values and
// returns its row hash, or seen=true when this Normalizer emitted a row
// with that hash already (the record is repeated: it is dropped).
func (n *Normalizer) version(ts *tableState, vals []any) (id string, seen bool) {
	sc := n.spec.Scd2
	content := make(map[string]any, len(vals))
	for i, c := range ts.t.Columns {
		if i >= len(vals) || vals[i] == nil || c.System || c.Name == sc.ValidFrom || c.Name == sc.ValidTo {
			continue
		}
		content[c.Name] = vals[i]
	}
	// As dlt's row hash: the columns' JSON, compact, keys sorted (the
	// hash is the content's, not the column order's).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(content); err != nil {
		// Row values are JSON scalars and strings; this cannot happen.
		buf.Reset()
		fmt.Fprintf(&buf, "%v", content)
	}
	id = digest(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if _, ok := n.versions[id]; ok {
		return id, true
	}
	n.versions[id] = struct{}{}
	if i, ok := ts.byName[sc.ValidFrom]; ok && i < len(vals) {
		vals[i] = sc.From.UTC().Format(time.RFC3339Nano)
	}
	if i, ok := ts.byName[sc.ValidTo]; ok && i < len(vals) {
		vals[i] = nil
		if sc.To != nil {
			vals[i] = sc.To.UTC().Format(time.RFC3339Nano)
		}
	}
	return id, false
}

// childHash is a child row's id under Spec.Scd2: its parent's id, table and
// list position, so a version's children keep their ids from load to load.
func childHash(parentID any, table string, idx int) string {
	return digest(fmt.Appendf(nil, "%v_%s_%d", parentID, table, idx))
}

// digest is dlt's digest128 with dlt's id length: 10 bytes of SHAKE128,
// in unpadded base64 (14 characters).
func digest(b []byte) string {
	return base64.RawStdEncoding.EncodeToString(sha3.SumSHAKE128(b, 10))
}

// HintColumn is the column name a hint's field (a column name, or a dotted
// path into nested objects) lands in.
func HintColumn(field string) string {
	return schema.ColumnPath(hintPath(field)...)
}
