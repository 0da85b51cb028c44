package auth

import "strings"

// Config is an auth block as written in a pipeline file (client.auth or
// endpoint.auth). Type names a registered Kind (bearer when empty); the
// other fields are the keys kinds take, each used by the kinds whose
// Kind.Required or Kind.Optional list its yaml name.
type Config struct {
	Type string `yaml:"type"`

	Token string `yaml:"token"`

	Name     string `yaml:"name"`
	APIKey   string `yaml:"api_key"`
	Location string `yaml:"location"`

	Username string `yaml:"username"`
	Password string `yaml:"password"`

	ClientID               string            `yaml:"client_id"`
	ClientSecret           string            `yaml:"client_secret"`
	AccessTokenURL         string            `yaml:"access_token_url"`
	AccessTokenRequestData map[string]string `yaml:"access_token_request_data"`
	DefaultTokenExpiration int               `yaml:"default_token_expiration"`
	RefreshToken           string            `yaml:"refresh_token"`
	TokenURL               string            `yaml:"token_url"`
	Scopes                 []string          `yaml:"scopes"`
}

// SecretOrigin says where a resolved secret value came from, so a value
// that must change (an OAuth2 refresh token that rotates) can be written
// back there. It holds places, never the value. config records origins
// while it resolves secrets (config.Pipeline.SecretOrigin); a Store writes
// rotated tokens back to them.
type SecretOrigin struct {
	// EnvVar is the environment variable the value was read from, or "".
	EnvVar string
	// File is the absolute path of the TOML secrets file the value was read
	// from, or "".
	File string
	// Keys are the lower-cased dotted key paths in File with the
	// reference's key name that hold the value (several when the same value
	// is written in several tables).
	Keys []string
}

// String describes the origin for messages: "environment variable X" or
// "secrets file F (key k)".
func (o SecretOrigin) String() string {
	switch {
	case o.EnvVar != "":
		return "environment variable " + o.EnvVar
	case o.File != "":
		return "secrets file " + o.File + " (key " + strings.Join(o.Keys, ", ") + ")"
	}
	return "the pipeline file"
}
