package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/restload/restload/internal/incremental/converter"
	"github.com/restload/restload/internal/template"
)

var (
	onCursorMissing = []string{"raise", "include", "exclude"}
	rowOrders       = []string{"asc", "desc"}
	incParamKeys    = []string{"type", "cursor_path", "initial_value", "end_value", "last_value_func", "lag",
		"range_start", "range_end", "convert", "on_cursor_value_missing", "row_order"}
	incPlaceholders = []string{template.StartValue, template.EndValue}
)

// requests checks what a merged resource's endpoint puts into its
// requests: incremental settings (block or {type: incremental} param),
// param types, and that every placeholder has something to fill it.
func (v *validator) requests(p *Pipeline) {
	for i := range p.Source.Resources {
		r := &p.Source.Resources[i]
		e := r.Endpoint
		if e == nil {
			continue
		}
		path := v.srcPath(fmt.Sprintf("resources[%d]", i)) + ".endpoint"
		incs := 0
		if inc := e.Incremental; inc != nil {
			incs++
			ip := path + ".incremental"
			v.incrementalValues(ip, inc.Convert, inc.OnCursorValueMissing, inc.RowOrder)
		}
		for _, k := range slices.Sorted(maps.Keys(e.Params)) {
			m, ok := e.Params[k].(map[string]any)
			if !ok {
				continue
			}
			pp := pathKey(path+".params", k)
			switch typ, _ := m["type"].(string); typ {
			case "resolve":
				// parentRefs checks these.
			case "incremental":
				incs++
				for _, key := range slices.Sorted(maps.Keys(m)) {
					if !slices.Contains(incParamKeys, key) {
						v.errorf(pathKey(pp, key), "not used by an incremental param (it takes %s)", oneOf(incParamKeys[1:]))
					}
				}
				if s, _ := m["cursor_path"].(string); s == "" {
					v.errorf(pp+".cursor_path", "missing required key for an incremental param")
				}
				if f, _ := m["last_value_func"].(string); f != "" && !slices.Contains(lastValueFuncs, f) {
					v.unknownValue(pp+".last_value_func", "last_value_func", f, lastValueFuncs)
				}
				for _, b := range []string{"range_start", "range_end"} {
					if s, _ := m[b].(string); s != "" && !slices.Contains(rangeBounds, s) {
						v.unknownValue(pp+"."+b, b, s, rangeBounds)
					}
				}
				conv, _ := m["convert"].(string)
				miss, _ := m["on_cursor_value_missing"].(string)
				order, _ := m["row_order"].(string)
				v.incrementalValues(pp, conv, miss, order)
			case "":
				// A plain object value (sent as JSON text).
			default:
				v.errorf(pp+".type", "unknown param type %s (want resolve or incremental)", v.show(pp+".type", typ))
			}
		}
		if incs > 1 {
			v.errorf(path, "more than one incremental: use either the incremental block or one {type: incremental} param")
		}

		// Every placeholder needs a value.
		known := func(name string, inPath bool) bool {
			switch {
			case strings.HasPrefix(name, "resources."):
				return true // parentRefs checks these
			case slices.Contains(incPlaceholders, name):
				return incs > 0
			case inPath:
				_, ok := e.Params[name]
				return ok
			}
			return false
		}
		check := func(at templateAt, inPath bool) {
			at.path = joinPath(v.srcPath(fmt.Sprintf("resources[%d]", i)), at.path)
			for _, name := range at.t.Names() {
				if known(name, inPath) {
					continue
				}
				msg := fmt.Sprintf("placeholder {%s} has no value", name)
				switch {
				case slices.Contains(incPlaceholders, name):
					msg += " (the endpoint has no incremental block or {type: incremental} param)"
				case inPath && !strings.Contains(name, "."):
					msg += fmt.Sprintf(" (add a param named %s, or use {resources.<parent>.<field>}; write {{ and }} for literal braces)", name)
				default:
					msg += " (want {resources.<parent>.<field>}, {incremental.start_value} or {incremental.end_value}; write {{ and }} for literal braces)"
				}
				if v.secret[at.path] {
					msg = "a placeholder has no value (not shown: the value holds a secret)"
				}
				v.errorf(at.path, "%s", msg)
			}
		}
		t := e.Templates()
		check(templateAt{"endpoint.path", t.Path}, true)
		for _, k := range slices.Sorted(maps.Keys(e.Params)) {
			for _, at := range t.param(k) {
				check(at, false)
			}
		}
		for _, at := range t.json() {
			check(at, false)
		}
		for _, k := range slices.Sorted(maps.Keys(t.Headers)) {
			check(templateAt{pathKey("endpoint.headers", k), t.Headers[k]}, false)
		}
	}
}

func (v *validator) incrementalValues(path, conv, missing, order string) {
	if conv != "" && !converter.Known(conv) {
		v.unknownValue(path+".convert", "convert", conv, converter.Names())
	}
	if missing != "" && !slices.Contains(onCursorMissing, missing) {
		v.unknownValue(path+".on_cursor_value_missing", "on_cursor_value_missing", missing, onCursorMissing)
	}
	if order != "" && !slices.Contains(rowOrders, order) {
		v.unknownValue(path+".row_order", "row_order", order, rowOrders)
	}
}
