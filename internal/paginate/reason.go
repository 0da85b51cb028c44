package paginate

import (
	"fmt"
	"strconv"
)

// Explainer is a Paginator that says in words why its last Update asked
// for another page or stopped, for debug logs and preview:
// "next: page=3 (hasMore is true)", "stop: page shorter than limit (7 < 10)".
// Every kind in this package implements it (by embedding reason); Reason
// falls back to HasNext for one that does not.
type Explainer interface {
	Reason() string
}

// Reason returns p's explanation of its last Update.
func Reason(p Paginator) string {
	if e, ok := p.(Explainer); ok {
		if r := e.Reason(); r != "" {
			return r
		}
	}
	if p.HasNext() {
		return "next"
	}
	return "stop"
}

// reason records a paginator's last decision; embed it and call more or
// stop in Update.
type reason struct{ text string }

// Reason returns the last decision in words.
func (r *reason) Reason() string { return r.text }

func (r *reason) more(format string, args ...any) {
	r.text = "next: " + fmt.Sprintf(format, args...)
}

func (r *reason) stop(format string, args ...any) {
	r.text = "stop: " + fmt.Sprintf(format, args...)
}

// sent shows a pagination value as it goes in the request: param=value, or
// the JSON body path.
func sent(param, bodyPath string, v any) string {
	if bodyPath != "" {
		return fmt.Sprintf("body %s=%s", bodyPath, short(stringify(v)))
	}
	return param + "=" + short(stringify(v))
}

// short bounds a value from the network shown in a reason and escapes
// what a terminal would act on.
func short(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// emptyWord names the value that ended pagination: null, missing, "" or
// false.
func emptyWord(v any) string {
	switch x := v.(type) {
	case nil:
		return "null or missing"
	case bool:
		return strconv.FormatBool(x)
	}
	return "empty"
}
