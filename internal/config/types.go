// Package config reads restload pipeline files.
//
// A pipeline file is YAML or JSON. Its source block is the dict that dlt's
// rest_api_source takes (client, resource_defaults, resources); a file that
// holds only that dict is accepted too. The optional pipeline block names the
// pipeline, its dataset and its destination, and the optional retry block sets
// the HTTP retry policy.
//
// Decoding is strict: unknown keys, wrong types and missing secrets are all
// reported together, each with file, line and dotted field path.
//
// config owns the file: strict decoding with positions, secrets,
// resource_defaults merging, defaults, and the rules that span blocks
// (resource names, parents, placeholders having values). It composes the
// blocks other packages own instead of restating their rules: the auth
// block is auth.Config and the paginator block paginate.Config (each type
// a registered Kind: config checks keys against the Kind and places the
// Kind's problems at file positions), templated endpoint strings are
// parsed once with package template (Endpoint.Templates), data_type names
// are schema's, data selectors response's, incremental convert names
// incremental/converter's, and retry defaults httpclient's.
package config

import (
	"time"

	"github.com/restload/restload/internal/auth"
	"github.com/restload/restload/internal/httpclient"
	"github.com/restload/restload/internal/paginate"
)

// Pipeline is a fully loaded, defaulted and validated pipeline file.
// Resources already have resource_defaults merged into them, and each has a
// non-nil Endpoint (Path, Method set), WriteDisposition and a TableName.
// Pipeline.Name and Pipeline.Dataset are set; Pipeline.Destination may be
// "" (use DestinationURL).
type Pipeline struct {
	// File is the path the pipeline was read from ("" when read from bytes).
	File string `yaml:"-"`

	Pipeline PipelineBlock `yaml:"pipeline"`
	Source   Source        `yaml:"source"`
	Retry    *Retry        `yaml:"retry"`
	// Limits bounds concurrency and request rate against the API.
	Limits *Limits `yaml:"limits"`

	// srcPrefix is "source" for {pipeline, source, ...} files and "" for
	// bare source dicts; error paths start with it.
	srcPrefix string
	// at maps dotted paths to where they were written.
	at map[string]Pos
	// secrets holds resolved secret values (see SecretValues).
	secrets []string
	// credHeaders holds the names of headers set from secrets (see
	// CredentialHeaders).
	credHeaders []string
	// warnings are problems that do not stop a load (see Warnings).
	warnings []string
	// origins says where whole-reference values came from (see SecretOrigin).
	origins map[string]SecretOrigin
	// dltDest holds, per bare dlt destination name, its URL from dlt's
	// credentials or why there is none; dltFilled lists what dlt's
	// configuration filled in (see FromDlt).
	dltDest   map[string]dltDest
	dltFilled []string
}

// PipelineBlock holds the pipeline's own settings.
type PipelineBlock struct {
	Name        string `yaml:"name"`
	Dataset     string `yaml:"dataset"`
	Destination string `yaml:"destination"`
	// TokenStore is where OAuth2 tokens are kept between runs (relative to
	// the pipeline file); the --token-store flag overrides it.
	TokenStore string `yaml:"token_store"`
	// SourceName is the name dlt's rest_api_source was given (its name
	// argument), which dlt's secrets are kept under
	// (sources.rest_api.<name>.credentials); DefaultSourceName when empty.
	SourceName string `yaml:"source_name"`
}

// Source is dlt's rest_api_source dict.
type Source struct {
	Client           Client            `yaml:"client"`
	ResourceDefaults *ResourceDefaults `yaml:"resource_defaults"`
	Resources        []Resource        `yaml:"resources"`
}

// Client is the API client block shared by all resources.
type Client struct {
	BaseURL   string            `yaml:"base_url"`
	Headers   map[string]string `yaml:"headers"`
	Auth      *Auth             `yaml:"auth"`
	Paginator *Paginator        `yaml:"paginator"`
	// Timeout is not in dlt: each attempt of a request, headers and body,
	// times out after it and is retried. Load sets it to DefaultTimeout
	// (60s) when the file leaves it out.
	Timeout Duration `yaml:"timeout"`
	// IdleReadTimeout is not in dlt: an attempt whose body sends no byte
	// for this long is cut and retried. Load sets it to
	// DefaultIdleReadTimeout (30s) when the file leaves it out.
	IdleReadTimeout Duration `yaml:"idle_read_timeout"`
}

// Auth is an auth block: auth owns its keys (auth.Config, whose Type
// names a registered auth.Kind), their validation and defaults.
type Auth = auth.Config

// Paginator is a paginator block: the keys paginate owns (paginate.Config,
// whose Type names a registered paginate.Kind) and where it was written. A
// paginator written as a bare string in the file decodes to one with only
// Type set.
type Paginator struct {
	paginate.Config `yaml:",inline"`

	// Pos is where the paginator was written, for error messages.
	Pos Pos `yaml:"-"`
}

// ResourceDefaults are merged into every resource (see Resource.merge).
type ResourceDefaults struct {
	Resource `yaml:",inline"`
}

// Resource is one API resource, loaded into the table of the same name.
// A resource written as a bare string in the file decodes to
// Resource{Name: s} (path = name).
type Resource struct {
	Name              string                `yaml:"name"`
	TableName         string                `yaml:"table_name"`
	PrimaryKey        StringList            `yaml:"primary_key"`
	MergeKey          StringList            `yaml:"merge_key"`
	WriteDisposition  *WriteDisposition     `yaml:"write_disposition"`
	Endpoint          *Endpoint             `yaml:"endpoint"`
	Columns           map[string]ColumnHint `yaml:"columns"`
	Selected          *bool                 `yaml:"selected"`
	MaxTableNesting   *int                  `yaml:"max_table_nesting"`
	IncludeFromParent []string              `yaml:"include_from_parent"`
	ProcessingSteps   []ProcessingStep      `yaml:"processing_steps"`
	SchemaContract    *SchemaContract       `yaml:"schema_contract"`
	Parallelized      *bool                 `yaml:"parallelized"`
	References        []TableReference      `yaml:"references"`

	Pos Pos `yaml:"-"`
}

// TableReference is one entry of dlt's `references` resource hint: the
// table's Columns refer to ReferencedColumns of ReferencedTable. restload
// keeps references in the schema, as dlt does; no destination makes a
// constraint of them. Table, which dlt allows on an inline reference, must
// be empty or the resource's own table.
type TableReference struct {
	Columns           StringList `yaml:"columns"`
	ReferencedTable   string     `yaml:"referenced_table"`
	ReferencedColumns StringList `yaml:"referenced_columns"`
	Label             string     `yaml:"label"`
	Cardinality       string     `yaml:"cardinality"`
	Table             string     `yaml:"table"`
}

// WriteDisposition is append, replace or merge, written either as a string or
// as {disposition, strategy, ...}. After Load, Strategy is "delete-insert",
// "upsert", "insert-only" or "scd2" for merge and "" otherwise. The other
// keys are scd2's (dlt's TScd2StrategyDict); check refuses them elsewhere.
type WriteDisposition struct {
	Disposition string `yaml:"disposition"`
	Strategy    string `yaml:"strategy"`
	// ValidityColumnNames names scd2's [valid from, valid to] columns
	// (default _dlt_valid_from, _dlt_valid_to).
	ValidityColumnNames []string `yaml:"validity_column_names"`
	// ActiveRecordTimestamp is the valid-to value of an active record
	// (default NULL); BoundaryTimestamp the valid-from of new versions and
	// valid-to of retired ones (default the load's time). Both are dates
	// or date-times, UTC when no offset is given (see ParseTimestamp).
	ActiveRecordTimestamp string `yaml:"active_record_timestamp"`
	BoundaryTimestamp     string `yaml:"boundary_timestamp"`
	// RowVersionColumnName is the column that tells versions apart
	// (default: the row hash in _dlt_id).
	RowVersionColumnName string `yaml:"row_version_column_name"`
}

// Endpoint is how a resource's records are requested.
type Endpoint struct {
	Path         string            `yaml:"path"`
	Method       string            `yaml:"method"`
	Params       map[string]any    `yaml:"params"`
	JSON         any               `yaml:"json"`
	Data         any               `yaml:"data"`
	Headers      map[string]string `yaml:"headers"`
	DataSelector string            `yaml:"data_selector"`
	// Paginator is, after Load, the effective paginator: the endpoint's,
	// else resource_defaults', else the client's; nil means auto-detect.
	Paginator *Paginator `yaml:"paginator"`
	// Auth overrides the client's auth; nil means use Client.Auth.
	Auth            *Auth            `yaml:"auth"`
	ResponseActions []ResponseAction `yaml:"response_actions"`
	Incremental     *Incremental     `yaml:"incremental"`

	// parsed holds the templates of Path, Params, JSON and Headers, parsed
	// by Load once resource_defaults are merged (see Templates).
	parsed *EndpointTemplates
}

// ResponseAction matches a response by status code and/or body substring.
type ResponseAction struct {
	StatusCode *int   `yaml:"status_code"`
	Content    string `yaml:"content"`
	Action     string `yaml:"action"`
}

// Incremental is dlt's incremental block.
type Incremental struct {
	CursorPath    string  `yaml:"cursor_path"`
	InitialValue  any     `yaml:"initial_value"`
	EndValue      any     `yaml:"end_value"`
	LastValueFunc string  `yaml:"last_value_func"`
	Lag           float64 `yaml:"lag"`
	RangeStart    string  `yaml:"range_start"`
	RangeEnd      string  `yaml:"range_end"`
	Convert       string  `yaml:"convert"`
	StartParam    string  `yaml:"start_param"`
	EndParam      string  `yaml:"end_param"`
	// OnCursorValueMissing is raise (default), include or exclude.
	OnCursorValueMissing string `yaml:"on_cursor_value_missing"`
	// RowOrder is asc or desc when the API returns records ordered by the
	// cursor (as last_value_func orders them): paging stops once a record
	// is past the range. "" means unknown.
	RowOrder string `yaml:"row_order"`
}

// ColumnHint overrides inference for one column.
type ColumnHint struct {
	DataType   string `yaml:"data_type"`
	Nullable   *bool  `yaml:"nullable"`
	PrimaryKey *bool  `yaml:"primary_key"`
	Precision  *int   `yaml:"precision"`
	Scale      *int   `yaml:"scale"`
	Unique     *bool  `yaml:"unique"`
	Timezone   *bool  `yaml:"timezone"`
	// HardDelete marks the column whose true (or, not a bool, non-null)
	// value deletes the record's row in a merge.
	HardDelete *bool `yaml:"hard_delete"`
	// DedupSort (asc or desc) picks which of a load's records with one
	// primary key a merge keeps: the lowest or the highest value.
	DedupSort string `yaml:"dedup_sort"`
}

// ProcessingStep is one filter or map expression.
type ProcessingStep struct {
	Filter string `yaml:"filter"`
	Map    string `yaml:"map"`
}

// SchemaContract is dlt's schema_contract, written as one mode for all or per
// entity (tables, columns, data_type).
type SchemaContract struct {
	Tables   string `yaml:"tables"`
	Columns  string `yaml:"columns"`
	DataType string `yaml:"data_type"`
}

// Retry is the retry block. The zero value means httpclient.DefaultPolicy,
// the seed's policy; Policy applies the block to it.
type Retry struct {
	MaxRetries    *int     `yaml:"max_retries"`
	BackoffFactor *float64 `yaml:"backoff_factor"`
	StatusCodes   []int    `yaml:"status_codes"`
	MaxDelay      Duration `yaml:"max_delay"`
}

// Limits bounds the load restload puts on an API.
type Limits struct {
	// Concurrency is the most requests in flight per host.
	Concurrency int `yaml:"concurrency"`
	// RequestsPerSecond is the steady request rate per host (0: unlimited).
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Prefetch is how many pages of one resource are fetched at once when
	// the paginator knows how many there are (page_number or offset with a
	// total), or, speculative, whenever it numbers its pages; written as a
	// number (the pages) or {pages, speculative}. Nil means DefaultPrefetch.
	Prefetch *Prefetch `yaml:"prefetch"`
	// MaxResponseBytes caps a response body, decompressed; nil means
	// DefaultMaxResponseBytes.
	MaxResponseBytes *int64 `yaml:"max_response_bytes"`
	// MaxPages stops a resource with an error after this many pages (for
	// a child resource, per parent record); nil means DefaultMaxPages.
	MaxPages *int `yaml:"max_pages"`
	// MaxColumns fails a resource whose records would give one table more
	// columns than this; nil means DefaultMaxColumns.
	MaxColumns *int `yaml:"max_columns"`
	// MaxTables fails a resource whose records would make it write more
	// tables than this (its own and its child tables); nil means
	// DefaultMaxTables.
	MaxTables *int `yaml:"max_tables"`
	// Memory bounds the whole process (0: the defaults): Go's soft memory
	// limit and, for DuckDB, its memory_limit get their shares of it (see
	// pipeline.Options.Memory). run --memory overrides it.
	Memory ByteSize `yaml:"memory"`
}

// Defaults of Limits.MaxResponseBytes (256 MiB), Limits.MaxPages,
// Limits.MaxColumns and Limits.MaxTables.
const (
	DefaultMaxResponseBytes = 256 << 20
	DefaultMaxPages         = 100000
	DefaultMaxColumns       = 10000
	DefaultMaxTables        = 1000
)

// Tables returns l.MaxTables, or DefaultMaxTables when l or it is nil.
func (l *Limits) Tables() int {
	if l == nil || l.MaxTables == nil {
		return DefaultMaxTables
	}
	return *l.MaxTables
}

// Columns returns l.MaxColumns, or DefaultMaxColumns when l or it is nil.
func (l *Limits) Columns() int {
	if l == nil || l.MaxColumns == nil {
		return DefaultMaxColumns
	}
	return *l.MaxColumns
}

// ResponseBytes returns l.MaxResponseBytes, or DefaultMaxResponseBytes when
// l or it is nil.
func (l *Limits) ResponseBytes() int64 {
	if l == nil || l.MaxResponseBytes == nil {
		return DefaultMaxResponseBytes
	}
	return *l.MaxResponseBytes
}

// Pages returns l.MaxPages, or DefaultMaxPages when l or it is nil.
func (l *Limits) Pages() int {
	if l == nil || l.MaxPages == nil {
		return DefaultMaxPages
	}
	return *l.MaxPages
}

// DefaultPrefetch is Limits.Prefetch when the file leaves it out.
const DefaultPrefetch = 8

// Prefetch is limits.prefetch: `prefetch: 4`, or `prefetch: {pages: 4,
// speculative: true}` to fetch pages ahead also when no total tells how
// many there are (pages past the end are discarded).
type Prefetch struct {
	Pages       *int `yaml:"pages"`
	Speculative bool `yaml:"speculative"`
}

// PrefetchPages returns l.Prefetch's pages, or DefaultPrefetch when l or
// they are nil; 1 is one page at a time.
func (l *Limits) PrefetchPages() int {
	if l == nil || l.Prefetch == nil || l.Prefetch.Pages == nil {
		return DefaultPrefetch
	}
	return *l.Prefetch.Pages
}

// SpeculativePrefetch reports whether limits.prefetch is speculative.
func (l *Limits) SpeculativePrefetch() bool {
	return l != nil && l.Prefetch != nil && l.Prefetch.Speculative
}

// StringList is a list of strings that may be written as a single string.
type StringList []string

// Duration is a time.Duration written as "30s" or a number of seconds.
type Duration time.Duration

// Pos is a position in a pipeline file.
type Pos struct {
	File string
	Line int
	Col  int
}

// Spec returns the paginate.Config of p, nil when p is nil (auto-detect).
func (p *Paginator) Spec() *paginate.Config {
	if p == nil {
		return nil
	}
	return &p.Config
}

// Policy returns httpclient.DefaultPolicy with the fields set in r
// overriding it. A nil r gives DefaultPolicy.
func (r *Retry) Policy() httpclient.Policy {
	p := httpclient.DefaultPolicy()
	if r == nil {
		return p
	}
	if r.MaxRetries != nil {
		p.MaxRetries = *r.MaxRetries
	}
	if r.BackoffFactor != nil {
		p.BackoffFactor = *r.BackoffFactor
	}
	if r.StatusCodes != nil {
		p.StatusCodes = r.StatusCodes
	}
	if r.MaxDelay > 0 {
		p.MaxDelay = time.Duration(r.MaxDelay)
	}
	return p
}
