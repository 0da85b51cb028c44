package destination

import (
	neturl "net/url"
	"path/filepath"
	"strings"
)

// Identity names the place a destination URL loads into, without secrets:
// for a server URL its scheme, user, host, port and database (no password,
// no query: settings such as sslmode do not change where rows go, and a
// query may hold a password); for a file destination the scheme and the
// absolute path (no query: DuckDB settings). Two URLs with one Identity
// load into the same place. Load packages record it (see spool.Manifest).
func Identity(url string) string {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok {
		return Redact(url)
	}
	switch scheme {
	case "postgresql":
		scheme = "postgres"
	case "mariadb":
		scheme = "mysql"
	}
	if strings.HasPrefix(rest, "//") {
		u, err := neturl.Parse(url)
		if err != nil {
			// Say no more than Redact would, and nothing after a '?'.
			s, _, _ := strings.Cut(Redact(url), "?")
			return s
		}
		u.Scheme = scheme
		if scheme == "mysql" && u.Port() == "" && u.Host != "" {
			u.Host = strings.TrimSuffix(u.Host, ":") + ":3306"
		}
		if u.User != nil {
			u.User = neturl.User(u.User.Username())
		}
		u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
		return u.String()
	}
	path, _, _ := strings.Cut(rest, "?")
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return scheme + ":" + path
}
