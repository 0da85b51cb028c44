package converter

import (
	"testing"
	"time"
)

func TestApply(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 30, 0, 5e8, time.FixedZone("x", 3600))
	want := map[string]any{"epoch": int64(1709292600), "epoch_ms": int64(1709292600500),
		"iso": "2024-03-01T11:30:00Z", "date": "2024-03-01"}
	for _, name := range Names() {
		got, ok := Apply(name, at)
		if !ok || got != want[name] {
			t.Errorf("Apply(%s) = %v, %v; want %v", name, got, ok, want[name])
		}
	}
	if len(want) != len(Names()) || len(converters) != len(Names()) {
		t.Errorf("Names() = %v, converters %d, want %d", Names(), len(converters), len(want))
	}
	if _, ok := Apply("epoc", at); ok || Known("epoc") {
		t.Error("an unknown converter applied")
	}
}
