package main

import (
	"testing"

	"github.com/restload/restload/internal/pipeline"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestMedians: each repeated run is compared with its own floor, and the
// summary row holds the medians (the highest peak RSS); failed, skipped and
// single runs get no summary row.
func TestMedians(t *testing.T) {
	run := func(secs, floor, rss, extract float64) Result {
		r := Result{Name: "jsonl", Mode: "append", Records: 100, Pages: 10, Seconds: secs, CPUSeconds: 2 * secs, PeakRSSMB: rss,
			Phases: &pipeline.Phases{Extract: extract, Load: 1, Commit: 0.1}}
		compare(&r, Result{Name: "floor", Seconds: floor})
		return r
	}
	rs := []Result{
		run(6, 2, 120, 4), run(9, 3, 130, 5), run(5, 2.5, 125, 3),
		{Name: "jsonl", Mode: "append", Error: "boom", Seconds: 1},
		{Name: "parquet", Mode: "append", Seconds: 7},
	}
	got := medians(rs)
	if len(got) != 1 {
		t.Fatalf("medians gave %d rows, want 1: %+v", len(got), got)
	}
	m := got[0]
	if m.Name != "median:jsonl" || m.Seconds != 6 || m.CPUSeconds != 12 || m.PeakRSSMB != 130 || m.VsFloor != 3 || m.FloorSeconds != 2.5 || m.Phases.Extract != 4 {
		t.Errorf("median row = %+v (phases %+v), want seconds 6, cpu 12, rss 130, ratio 3 (of 3, 3, 2), floor 2.5, extract 4", m, *m.Phases)
	}
	if rs[0].Phases.Extract != 4 {
		t.Error("medians changed its input's phases")
	}
}
