package mysql

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestLocalInfileRefused: a server with local_infile off answers LOAD
// DATA LOCAL with one of three errors (MariaDB's, MySQL 5's, MySQL 8's);
// each becomes a message saying how to turn it on, still wrapping the
// server's error. (The setting is global: the shared test server is not
// switched off to show it.)
func TestLocalInfileRefused(t *testing.T) {
	for _, n := range []uint16{1148, 3948, 4166} {
		server := &mysql.MySQLError{Number: n, Message: "Loading local data is disabled"}
		err := localInfileError(fmt.Errorf("exec: %w", server))
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != n {
			t.Errorf("error %d: %v no longer wraps the server's error", n, err)
		}
		if !strings.Contains(err.Error(), "SET GLOBAL local_infile = 1") || !strings.Contains(err.Error(), "LOAD DATA LOCAL INFILE") {
			t.Errorf("error %d: %q does not say how to enable local_infile", n, err)
		}
	}
	other := &mysql.MySQLError{Number: 1146, Message: "no such table"}
	if err := localInfileError(other); err != error(other) {
		t.Errorf("another error became %v", err)
	}
}

// TestAppendField: LOAD DATA's text format, where a tab, newline,
// backslash or NUL in text must not end a field or a line, and \N alone is
// NULL.
func TestAppendField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, `\N`},
		{`\N`, `\\N`},
		{"a\tb\nc\r\\d\x00e", `a\tb\nc\r\\d\0e`},
		{`"quoted", 'single'`, `"quoted", 'single'`},
		{"", ""},
		{true, "1"},
		{int64(-7), "-7"},
		{-1e-300, "-1e-300"},
	} {
		if got := string(appendField(nil, c.v, "")); got != c.want {
			t.Errorf("appendField(%q) = %q, want %q", c.v, got, c.want)
		}
	}
}
