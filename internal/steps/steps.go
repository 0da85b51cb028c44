// Package steps runs a resource's processing_steps: filter and map
// expressions written in the pipeline file, in the expr language
// (github.com/expr-lang/expr), applied to each record in order.
//
// The record is the expression's environment: its top-level fields are
// variables ("status", "amount"), and "record" is the whole record, for
// fields whose names are not identifiers (record["user-id"]). A field the
// record lacks is nil. JSON numbers are ints (when integral) or floats.
//
//   - filter: the expression must give a bool; the record is kept when it is
//     true and dropped when it is false (or nil).
//   - map: the expression must give an object (a map); each of its keys is set
//     on the record, replacing a field of the same name, and a key whose value
//     is nil removes that field. Fields the map does not name are kept. So
//     map: '{"total": price * qty, "internal_notes": nil}' adds total and
//     drops internal_notes.
//
// Expressions are compiled once, when the pipeline starts, so a syntax error
// is reported at its file:line before any request is sent. Compiled steps are
// safe for concurrent use.
package steps

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/restload/restload/internal/config"
)

// Step is one compiled filter or map.
type Step struct {
	// Kind is "filter" or "map"; Source is the expression as written.
	Kind, Source string
	prog         *vm.Program
}

// Steps are a resource's processing steps, in order. A nil Steps does
// nothing.
type Steps []*Step

// Compile compiles one resource's steps. path is the resource's dotted path
// in the file (e.g. "source.resources[2]") and p gives positions; errors
// carry file:line of the expression.
func Compile(p *config.Pipeline, r *config.Resource, path string) (Steps, error) {
	var out Steps
	var errs config.Errors
	for i, s := range r.ProcessingSteps {
		kind, src := "filter", s.Filter
		if s.Map != "" {
			kind, src = "map", s.Map
		}
		sp := fmt.Sprintf("%s.processing_steps[%d].%s", path, i, kind)
		opts := []expr.Option{expr.AllowUndefinedVariables()}
		if kind == "filter" {
			opts = append(opts, expr.AsBool())
		}
		prog, err := expr.Compile(src, opts...)
		if err != nil {
			pos := position(p, r, sp, i, kind)
			errs = append(errs, &config.Error{File: pos.File, Line: pos.Line, Col: pos.Col, Path: sp,
				Msg: fmt.Sprintf("invalid %s expression: %s", kind, oneLine(err.Error()))})
			continue
		}
		out = append(out, &Step{Kind: kind, Source: src, prog: prog})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// position finds where a step was written: in the resource itself, else in
// resource_defaults (merged in), else at the resource.
func position(p *config.Pipeline, r *config.Resource, sp string, i int, kind string) config.Pos {
	if pos, ok := p.Position(sp); ok {
		return pos
	}
	dp := p.SourcePath(fmt.Sprintf("resource_defaults.processing_steps[%d].%s", i, kind))
	if pos, ok := p.Position(dp); ok {
		return pos
	}
	return r.Pos
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// CompileAll compiles the steps of every resource of p, by resource name,
// and reports every invalid expression at once (a config.Errors).
func CompileAll(p *config.Pipeline) (map[string]Steps, error) {
	out := map[string]Steps{}
	var errs config.Errors
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		s, err := Compile(p, r, p.SourcePath(fmt.Sprintf("resources[%d]", i)))
		if err != nil {
			if es, ok := err.(config.Errors); ok {
				errs = append(errs, es...)
				continue
			}
			return nil, err
		}
		out[r.Name] = s
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// Apply runs the steps on rec in order. It returns the record to keep (rec
// itself, changed in place by maps) or nil when a filter dropped it.
func (ss Steps) Apply(rec map[string]any) (map[string]any, error) {
	if len(ss) == 0 {
		return rec, nil
	}
	for _, s := range ss {
		out, err := expr.Run(s.prog, env(rec))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %s", s.Kind, s.Source, oneLine(err.Error()))
		}
		switch s.Kind {
		case "filter":
			keep, ok := out.(bool)
			if out != nil && !ok {
				return nil, fmt.Errorf("filter %q: gave %T, want a bool", s.Source, out)
			}
			if !keep {
				return nil, nil
			}
		case "map":
			m, ok := out.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("map %q: gave %T, want an object such as {\"field\": value}", s.Source, out)
			}
			for k, v := range m {
				if v == nil {
					delete(rec, k)
					continue
				}
				rec[k] = v
			}
		}
	}
	return rec, nil
}

// env builds the expression environment for rec: its fields with JSON
// numbers turned into Go numbers, and "record" for the whole record.
func env(rec map[string]any) map[string]any {
	e := make(map[string]any, len(rec)+1)
	for k, v := range rec {
		e[k] = plain(v)
	}
	whole := maps.Clone(e)
	e["record"] = whole
	return e
}

// plain turns json.Numbers (at any depth) into int or float64, which expr
// compares and computes with.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			if i >= math.MinInt && i <= math.MaxInt {
				return int(i)
			}
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = plain(vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = plain(vv)
		}
		return out
	}
	return v
}
