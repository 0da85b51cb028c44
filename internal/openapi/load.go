package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// MaxSpecBytes bounds the size of a spec read from a file or URL. GitHub's
// full REST description, one of the largest in use, is about 12 MB as JSON.
const MaxSpecBytes = 64 << 20

// fetchTimeout bounds fetching a spec from a URL.
const fetchTimeout = 60 * time.Second

// Spec is a parsed API description.
type Spec struct {
	Doc *openapi3.T
	// Version is the description's own version line: "OpenAPI 3.0.3" or
	// "Swagger 2.0".
	Version string
	// Location is the URL the spec was read from, used to resolve relative
	// server URLs; nil for a file.
	Location *url.URL
}

// Read reads a spec from src, a file path or an http(s) URL, at most
// MaxSpecBytes. A URL is fetched with client (nil means a client with a
// 60 s timeout).
func Read(ctx context.Context, src string, client *http.Client) ([]byte, *url.URL, error) {
	if u, err := url.Parse(src); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		if client == nil {
			client = &http.Client{Timeout: fetchTimeout}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, nil, fmt.Errorf("openapi spec %s: %w", u.Redacted(), err)
		}
		req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5")
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, fmt.Errorf("openapi spec: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("openapi spec %s: HTTP %d", u.Redacted(), resp.StatusCode)
		}
		data, err := readBounded(resp.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("openapi spec %s: %w", u.Redacted(), err)
		}
		return data, u, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi spec: %w", err)
	}
	defer f.Close()
	data, err := readBounded(f)
	if err != nil {
		return nil, nil, fmt.Errorf("openapi spec %s: %w", src, err)
	}
	return data, nil, nil
}

func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSpecBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSpecBytes {
		return nil, fmt.Errorf("larger than %d MiB", MaxSpecBytes>>20)
	}
	return data, nil
}

// Parse parses an OpenAPI 3.x or Swagger 2.0 description written as YAML or
// JSON. Swagger 2.0 is converted to OpenAPI 3. References to other files
// or URLs are refused.
func Parse(data []byte, location *url.URL) (spec *Spec, err error) {
	defer func() {
		// kin-openapi is robust, but a spec is hostile input: a panic in a
		// corner of it must be an error, not a crash.
		if r := recover(); r != nil {
			spec, err = nil, fmt.Errorf("openapi spec: cannot parse: %v", r)
		}
	}()
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("openapi spec: not YAML or JSON: %w", err)
	}
	top, ok := stringKeys(raw, 0).(map[string]any)
	if !ok {
		return nil, errors.New("openapi spec: want a mapping at the top level")
	}
	repairItems(top, 0)
	js, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("openapi spec: %w", err)
	}
	if v, ok := top["swagger"]; ok {
		if s := fmt.Sprint(v); !strings.HasPrefix(s, "2") {
			return nil, fmt.Errorf("openapi spec: swagger version %q: want 2.0", s)
		}
		var d2 openapi2.T
		if err := json.Unmarshal(js, &d2); err != nil {
			return nil, fmt.Errorf("openapi spec: swagger 2.0: %w", err)
		}
		doc, err := openapi2conv.ToV3(&d2)
		if err != nil {
			return nil, fmt.Errorf("openapi spec: converting swagger 2.0: %w", err)
		}
		return &Spec{Doc: doc, Version: "Swagger 2.0", Location: location}, nil
	}
	v, ok := top["openapi"]
	if !ok {
		return nil, errors.New(`openapi spec: neither "openapi" nor "swagger" at the top level; is this an OpenAPI description?`)
	}
	if s := fmt.Sprint(v); !strings.HasPrefix(s, "3.") {
		return nil, fmt.Errorf("openapi spec: openapi version %q: want 3.x", s)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(js)
	if err != nil {
		return nil, fmt.Errorf("openapi spec: %w", err)
	}
	return &Spec{Doc: doc, Version: "OpenAPI " + doc.OpenAPI, Location: location}, nil
}

// repairItems repairs a list under "items", a JSON Schema draft-4 tuple
// that OpenAPI does not allow but Slack's description uses dozens of times,
// in two ways: as the alternatives of a schema without a type ("one of
// these objects"), and as the item alternatives of an array. Either way
// the first alternative that is not {type: null} is taken, so the spec
// parses; only the shape of a record matters here.
func repairItems(v any, depth int) {
	if depth > 512 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		if list, ok := t["items"].([]any); ok {
			var alt map[string]any
			for _, m := range list {
				if mm, ok := m.(map[string]any); ok && mm["type"] != "null" {
					alt = mm
					break
				}
			}
			delete(t, "items")
			if _, typed := t["type"]; typed {
				if alt == nil {
					alt = map[string]any{}
				}
				t["items"] = alt
			} else {
				for k, x := range alt {
					if _, ok := t[k]; !ok {
						t[k] = x
					}
				}
			}
		}
		for _, x := range t {
			repairItems(x, depth+1)
		}
	case []any:
		for _, x := range t {
			repairItems(x, depth+1)
		}
	}
}

// stringKeys turns the map[any]any that YAML decodes for mappings with
// non-string keys (`200:` response codes) into map[string]any, so the
// document can be re-encoded as JSON.
func stringKeys(v any, depth int) any {
	if depth > 512 {
		return nil
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = stringKeys(x, depth+1)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = stringKeys(x, depth+1)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = stringKeys(x, depth+1)
		}
		return t
	}
	return v
}
