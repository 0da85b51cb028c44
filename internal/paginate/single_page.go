package paginate

// SinglePage fetches one page and stops.
type SinglePage struct{}

// Init leaves the request alone.
func (*SinglePage) Init(*Request) {}

// Update accepts any page.
func (*SinglePage) Update(*Response) error { return nil }

// HasNext is always false.
func (*SinglePage) HasNext() bool { return false }

// Next does nothing.
func (*SinglePage) Next(*Request) {}
