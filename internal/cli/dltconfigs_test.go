package cli_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDltSourceConfigs runs `restload check` on each of dlt's literal
// config cases (testdata/dlt_source_configs, from dlt's
// tests/sources/rest_api/configurations/source_configs.py) and asserts
// dlt's verdict: valid cases pass, invalid ones fail with a message at a
// file position. Cases holding Python objects are refused, naming the
// object; their plain-dict equals (valid_NN_as_dict) pass.
func TestDltSourceConfigs(t *testing.T) {
	const python = "is a Python object, which restload cannot run"
	cases := []struct {
		file string
		// want is "" for a valid case, else a regexp one line of check's
		// stderr must match after "file:line:col: ".
		want string
		// env is set for the case, as dlt's tests set it.
		env map[string]string
	}{
		{"invalid_01_missing_resources", `resources: at least one resource is required`, nil},
		{"invalid_02_missing_client", `client\.base_url: missing required key`, nil},
		// dlt: ConfigFieldMissingException naming SOURCES__REST_API__INVALID_CONFIG__CREDENTIALS__API_KEY
		// (its test names the source invalid_config; here it is rest_api).
		{"invalid_03_auth_shorthand_no_api_key", `client\.auth\.api_key: missing required key for api_key auth \(or, as dlt reads it, set SOURCES__REST_API__CREDENTIALS__API_KEY`, nil},
		{"invalid_04_auth_object_no_api_key", `client\.auth: "APIKeyAuth\(\)" ` + python, nil},
		{"invalid_05_auth_dict_no_api_key", `client\.auth\.api_key: missing required key for api_key auth`, nil},
		{"invalid_06_client_unknown_key", `client\.invalid_key: unknown key`, nil},
		{"invalid_07_unknown_paginator", `client\.paginator\.type: unknown paginator type "invalid_paginator"`, nil},
		{"invalid_08_resolve_unknown_resource", `resources\[1\]\.endpoint\.params\.id: unknown parent resource .*issuess`, nil},
		{"invalid_09_path_placeholders_without_params", `resources\[0\]\.endpoint\.path: placeholder \{org\} has no value`, nil},

		{"valid_01_resolve_param", "", nil},
		{"valid_02_resource_field_reference", "", nil},
		{"valid_03_endpoint_as_string", "", nil},
		{"valid_04_json_link", "", nil},
		{"valid_05_single_page_paginator_object", `resources\[0\]\.endpoint\.paginator: "SinglePagePaginator\(\)" ` + python, nil},
		{"valid_05_as_dict", "", nil},
		{"valid_06_bearer", "", nil},
		{"valid_07_bearer_by_default", "", nil},
		{"valid_08_custom_classes_and_lambda", `client\.paginator: "CustomPaginator\(\)" ` + python, nil},
		{"valid_09_http_basic_object", `client\.auth: "HttpBasicAuth\(.*\)" ` + python, nil},
		{"valid_09_as_dict", "", nil},
		{"valid_10_incremental_param", "", nil},
		{"valid_11_incremental_start_end_param", "", nil},
		{"valid_12_headers_and_resource_forms", "", nil},
		{"valid_13_table_name_lambda", `resources\[1\]\.table_name: "lambda item: .*" ` + python, nil},
		{"valid_14_path_params_and_resolve", "", nil},
		{"valid_15_resolve_from_python_resource", `resources\[1\]\.name: "repositories\(\)" ` + python, nil},
		{"valid_16_reference_to_python_resource", `resources\[1\]\.name: "repositories\(\)" ` + python, nil},
		{"valid_17_endpoint_http_basic_object", `resources\[0\]\.endpoint\.auth: "HttpBasicAuth\(.*\)" ` + python, nil},
		{"valid_17_as_dict", "", nil},

		{"paginator_01_auto", "", nil},
		{"paginator_02_single_page", "", nil},
		{"paginator_03_page_number", "", nil},
		{"paginator_04_offset", "", nil},
		{"paginator_05_header_link", "", nil},
		{"paginator_06_header_cursor", "", nil},
		{"paginator_07_json_link", "", nil},
		{"paginator_08_cursor", "", nil},
	}
	// AUTH_TYPE_CONFIGS leave keys out for dlt to inject; dlt's test sets
	// them in each of three sections. Without them dlt fails all but
	// bearer, and so does restload.
	authCases := []struct{ file, missing string }{
		{"auth_01_bearer", ""},
		{"auth_02_api_key", "api_key"},
		{"auth_03_http_basic", "password"},
		{"auth_04_oauth2_client_credentials", "client_id"},
	}
	for _, section := range []string{"SOURCES__REST_API__CREDENTIALS", "SOURCES__CREDENTIALS", "CREDENTIALS"} {
		env := map[string]string{}
		for k, v := range map[string]string{"API_KEY": "api_key", "NAME": "session-cookie", "PASSWORD": "password", "CLIENT_SECRET": "a_client_secret", "CLIENT_ID": "a_client_id"} {
			env[section+"__"+k] = v
		}
		for _, a := range authCases {
			cases = append(cases, struct {
				file, want string
				env        map[string]string
			}{a.file, "", env})
		}
	}
	for _, a := range authCases {
		want := ""
		if a.missing != "" {
			want = `client\.auth\.` + a.missing + `: missing required key`
		}
		cases = append(cases, struct {
			file, want string
			env        map[string]string
		}{a.file, want, map[string]string{}})
	}

	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.file] = true
		name := tc.file
		switch {
		case tc.env == nil:
		case len(tc.env) == 0:
			name += "/no_env"
		default:
			for k := range tc.env {
				if s, ok := strings.CutSuffix(k, "__API_KEY"); ok {
					name += "/" + s
				}
			}
		}
		t.Run(name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			file := filepath.Join("testdata", "dlt_source_configs", tc.file+".json")
			code, out, errOut := run(t, "check", file)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("dlt accepts %s; check: exit %d\n%s\n%s", tc.file, code, out, errOut)
				}
				return
			}
			if code != 2 {
				t.Fatalf("dlt rejects %s; check: exit %d\n%s\n%s", tc.file, code, out, errOut)
			}
			re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(file) + `:\d+:\d+: ` + tc.want)
			if !re.MatchString(errOut) {
				t.Errorf("stderr has no line matching %s:\n%s", re, errOut)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "dlt_source_configs", "*.json"))
	for _, f := range files {
		if n := strings.TrimSuffix(filepath.Base(f), ".json"); !seen[n] {
			t.Errorf("%s has no case in this test", f)
		}
	}
}
