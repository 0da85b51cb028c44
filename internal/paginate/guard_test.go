package paginate

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestLoopGuardMemoryBounded: the loop detection remembers the cursors it
// has seen without keeping them, so an API sending a fresh 64 KiB cursor
// on each of 1000 pages does not make the paginator hold 64 MiB.
func TestLoopGuardMemoryBounded(t *testing.T) {
	p, err := New(&Config{Type: "cursor", CursorPath: "next"})
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 64<<10)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 1000 {
		cur := fmt.Sprintf("%d%s", i, pad)
		body := map[string]any{"next": cur, "data": []any{i}}
		if err := p.Update(&Response{StatusCode: 200, Body: body, Records: 1, Raw: []byte(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(p)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 8<<20 {
		t.Fatalf("the paginator holds %d MiB after 1000 pages of 64 KiB cursors", grown>>20)
	}
	// A repeated cursor is still caught, and named.
	body := map[string]any{"next": "7" + pad, "data": []any{1}}
	err = p.Update(&Response{StatusCode: 200, Body: body, Records: 1, Raw: []byte(`{"n":"again"}`)})
	if err == nil || !strings.Contains(err.Error(), "repeated at page 1001 (first seen at page 8)") {
		t.Fatalf("err = %.200v", err)
	}
}
