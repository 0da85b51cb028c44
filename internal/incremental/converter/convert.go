// Package converter owns the converters an incremental block's convert key
// may name: how a cursor value is written into a request (epoch, epoch_ms,
// iso, date). config checks convert against Names and incremental applies
// them, so the two cannot disagree.
package converter

import (
	"slices"
	"time"
)

var converters = map[string]func(t time.Time) any{
	"epoch":    func(t time.Time) any { return t.Unix() },
	"epoch_ms": func(t time.Time) any { return t.UnixMilli() },
	"iso":      func(t time.Time) any { return t.UTC().Format(time.RFC3339) },
	"date":     func(t time.Time) any { return t.UTC().Format(time.DateOnly) },
}

// Names returns the converter names, in the order messages list them.
func Names() []string { return []string{"epoch", "epoch_ms", "iso", "date"} }

// Known reports whether name is a converter.
func Known(name string) bool { return slices.Contains(Names(), name) }

// Apply writes t as converter name says; ok is false for an unknown name.
func Apply(name string, t time.Time) (v any, ok bool) {
	f, ok := converters[name]
	if !ok {
		return nil, false
	}
	return f(t), true
}
