package config

import (
	"maps"
	"reflect"
)

// mergeResource merges resource_defaults into r the way dlt does: resource
// keys are taken from the defaults only when the resource leaves them unset;
// endpoint keys likewise, except params and json, whose keys are merged one
// level deep (the resource's win); columns are merged per column and per
// hint. The result shares no maps or slices with either input.
func mergeResource(def, r *Resource) Resource {
	out := deepCopy(*r)
	rv := reflect.ValueOf(&out).Elem()
	dv := reflect.ValueOf(deepCopy(*def))
	for i := range rv.NumField() {
		switch rv.Type().Field(i).Name {
		case "Name", "Pos", "Endpoint", "Columns":
			continue
		}
		if f := rv.Field(i); f.IsZero() {
			f.Set(dv.Field(i))
		}
	}
	out.Columns = mergeColumns(def.Columns, r.Columns)
	out.Endpoint = mergeEndpoint(def.Endpoint, r.Endpoint)
	return out
}

func mergeEndpoint(def, e *Endpoint) *Endpoint {
	switch {
	case def == nil:
		return deepCopy(e)
	case e == nil:
		return deepCopy(def)
	}
	out := deepCopy(e)
	d := deepCopy(def)
	ov, dv := reflect.ValueOf(out).Elem(), reflect.ValueOf(d).Elem()
	for i := range ov.NumField() {
		if f := ov.Field(i); f.CanSet() && f.IsZero() {
			f.Set(dv.Field(i))
		}
	}
	if d.Params != nil && e.Params != nil {
		merged := maps.Clone(d.Params)
		maps.Copy(merged, out.Params)
		out.Params = merged
	}
	dm, okd := d.JSON.(map[string]any)
	em, oke := out.JSON.(map[string]any)
	if okd && oke {
		merged := maps.Clone(dm)
		maps.Copy(merged, em)
		out.JSON = merged
	}
	return out
}

func mergeColumns(def, cols map[string]ColumnHint) map[string]ColumnHint {
	if def == nil && cols == nil {
		return nil
	}
	out := deepCopy(def)
	if out == nil {
		out = map[string]ColumnHint{}
	}
	for name, c := range deepCopy(cols) {
		base, ok := out[name]
		if !ok {
			out[name] = c
			continue
		}
		bv, cv := reflect.ValueOf(&base).Elem(), reflect.ValueOf(c)
		for i := range bv.NumField() {
			if f := cv.Field(i); !f.IsZero() {
				bv.Field(i).Set(f)
			}
		}
		out[name] = base
	}
	return out
}

// deepCopy copies v so that no pointer, map or slice is shared with it.
func deepCopy[T any](v T) T {
	out := copyValue(reflect.ValueOf(&v).Elem())
	return out.Interface().(T)
}

func copyValue(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(copyValue(v.Elem()))
			out.Set(p)
		}
	case reflect.Map:
		if !v.IsNil() {
			m := reflect.MakeMapWithSize(v.Type(), v.Len())
			for it := v.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), copyValue(it.Value()))
			}
			out.Set(m)
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(copyValue(v.Index(i)))
			}
			out.Set(s)
		}
	case reflect.Interface:
		if !v.IsNil() {
			out.Set(copyValue(v.Elem()))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if out.Field(i).CanSet() {
				out.Field(i).Set(copyValue(v.Field(i)))
			}
		}
	default:
		out.Set(v)
	}
	return out
}
