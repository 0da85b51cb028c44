package paginate

// Config is a paginator block as written in a pipeline file. Type names a
// registered Kind; the other fields are the keys kinds take, each used by
// the kinds whose Kind.Required or Kind.Optional list its yaml name. A
// paginator written as a bare string decodes to Config{Type: s}.
type Config struct {
	Type string `yaml:"type"`

	// page_number
	BasePage *int `yaml:"base_page"`
	Page     *int `yaml:"page"`
	// StartFromPage is the seed's name for page; ApplyDefaults copies it
	// into Page.
	StartFromPage *int   `yaml:"start_from_page"`
	PageParam     string `yaml:"page_param"`
	PageBodyPath  string `yaml:"page_body_path"`
	MaximumPage   *int   `yaml:"maximum_page"`
	// NextPagePath, when set, makes page_number send the opaque value found at
	// this path of the previous response as the next page (Sigma's nextPage).
	NextPagePath string `yaml:"next_page_path"`

	// page_number and offset
	TotalPath *string `yaml:"total_path,nullempty"` // nil: default; "" or null: disabled
	// TotalCounts says what page_number's total_path counts: "pages" (dlt's
	// reading, the default) or "records" (restload; the page count is then
	// the total over the page size sent in limit_param or limit_body_path).
	TotalCounts        string `yaml:"total_counts"`
	StopAfterEmptyPage *bool  `yaml:"stop_after_empty_page"`
	HasMorePath        string `yaml:"has_more_path"`
	LimitParam         string `yaml:"limit_param"`
	LimitBodyPath      string `yaml:"limit_body_path"`

	// offset
	Limit          *int   `yaml:"limit"`
	Offset         *int   `yaml:"offset"`
	OffsetParam    string `yaml:"offset_param"`
	OffsetBodyPath string `yaml:"offset_body_path"`
	MaximumOffset  *int   `yaml:"maximum_offset"`

	// cursor and header_cursor
	CursorPath     string `yaml:"cursor_path"`
	CursorParam    string `yaml:"cursor_param"`
	CursorBodyPath string `yaml:"cursor_body_path"`
	CursorKey      string `yaml:"cursor_key"`

	// json_link
	NextURLPath string `yaml:"next_url_path"`
	// header_link
	LinksNextKey string `yaml:"links_next_key"`
}
