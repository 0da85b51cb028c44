package paginate

import "github.com/restload/restload/internal/kind"

func init() {
	register(Kind{
		Spec: kind.Spec{
			Name: "single_page", Rank: 0,
			Doc: "none",
		},
		New: func(*Config) (Paginator, error) { return &SinglePage{}, nil },
	})
}

// SinglePage fetches one page and stops.
type SinglePage struct{}

// Init leaves the request alone.
func (*SinglePage) Init(*Request) {}

// Update accepts any page.
func (*SinglePage) Update(*Response) error { return nil }

// Reason says why there is no next page.
func (*SinglePage) Reason() string { return "stop: single_page reads one page" }

// HasNext is always false.
func (*SinglePage) HasNext() bool { return false }

// Next does nothing.
func (*SinglePage) Next(*Request) {}
