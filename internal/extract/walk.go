package extract

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/restload/restload/internal/incremental"
)

// ChildWorkers bounds how many parent records of one page have their
// children fetched at once by a parallelized child resource.
const ChildWorkers = 4

// Node is one resource of a parent/child tree, as Walk runs it. Set the
// exported fields before Walk; the node records its failure and counts its
// pages, which its methods report (safe for concurrent use).
type Node struct {
	// Resource is what to fetch; Walk sets its Bindings on each run (parent
	// values, incremental start and end).
	Resource  Resource
	Extractor *Extractor
	// Refs bind a child's placeholders to fields of its parent's records
	// (see ParentRefs); IncludeFromParent names parent fields copied into
	// each child record as _<parent>_<field>.
	Refs              []ParentRef
	IncludeFromParent []string
	// Parallel fetches a child for up to ChildWorkers parent records of a
	// page at once.
	Parallel bool
	// Tracker, when set, owns the resource's incremental state: each run
	// begins a cursor from it (per parent record for a child), which fills
	// the start and end placeholders and filters the records.
	Tracker *incremental.Tracker
	// Record, when set, transforms record index (1-based) of page before
	// the cursor sees it; a nil record is dropped. Its error fails the node
	// as it is.
	Record func(page, index int, rec map[string]any) (map[string]any, error)
	// Page receives each page's records that were kept, before the
	// children run on them. It is called from one goroutine at a time per
	// parent run, but from several at once for a parallelized child.
	Page func(ctx context.Context, page int, recs []map[string]any) error
	// OnRetry, when set, is called before each retry of the node's requests.
	OnRetry func()
	// Limit, when set, stops the resource quietly after so many records or
	// pages over all its runs (dlt's add_limit; run --limit, --max-pages).
	Limit Limit

	parent   *Node
	children []*Node

	mu    sync.Mutex
	err   error
	pages int64
	// taken counts the records and pages Limit allowed so far.
	takenRecords, takenPages int
}

// Limit caps what a resource extracts; 0 means no cap. A capped resource
// stops without error, after the page that reaches the cap (its records
// cut to fit), and its incremental cursor is not saved.
type Limit struct {
	Records int
	Pages   int
}

// errLimited ends a run that reached its Limit.
var errLimited = errors.New("limit reached")

// errRangeClosed stops a resource's paging when incremental.row_order shows
// no later record can be in range (incremental.Cursor.Closed).
var errRangeClosed = errors.New("incremental range closed")

// limited reports whether n's Limit is used up.
func (n *Node) limited() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return (n.Limit.Records > 0 && n.takenRecords >= n.Limit.Records) ||
		(n.Limit.Pages > 0 && n.takenPages >= n.Limit.Pages)
}

// take counts one page of recs against n's Limit and returns the records
// it allows.
func (n *Node) take(recs []map[string]any) []map[string]any {
	if n.Limit == (Limit{}) {
		return recs
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.takenPages++
	if n.Limit.Records > 0 {
		recs = recs[:min(len(recs), max(0, n.Limit.Records-n.takenRecords))]
	}
	n.takenRecords += len(recs)
	return recs
}

// AddChild makes c a child of n: c runs once for each record of n's pages.
func (n *Node) AddChild(c *Node) {
	c.parent = n
	n.children = append(n.children, c)
}

// Err returns n's first error, or nil.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// Pages returns how many pages n fetched, over all its runs.
func (n *Node) Pages() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pages
}

// Fail records n's first error, and fails its descendants (their data is
// incomplete without the parent's).
func (n *Node) Fail(err error) {
	n.mu.Lock()
	if n.err == nil {
		n.err = err
	}
	n.mu.Unlock()
	for _, c := range n.children {
		c.Fail(fmt.Errorf("resource %s: parent %s failed", c.Resource.Name, n.Resource.Name))
	}
}

// SubtreeFailed reports whether n or a descendant failed.
func (n *Node) SubtreeFailed() bool {
	if n.Err() != nil {
		return true
	}
	for _, c := range n.children {
		if c.SubtreeFailed() {
			return true
		}
	}
	return false
}

// Walk runs root and, through it, its descendants: the root's pages
// stream, and each page's records drive the children before the next page
// is fetched, so a parent is never held in memory whole. Memory is bounded
// by one page per level of the tree (times ChildWorkers for parallelized
// children), plus, for an incremental child, one small state entry per
// parent record. Failures are recorded on the nodes (see Err): a child's
// failure stops its further runs, not its parent.
func Walk(ctx context.Context, root *Node) {
	if err := root.run(ctx, nil, nil); err != nil {
		root.Fail(err)
	}
}

// run fetches every page of n, for one parent record when n is a child
// (parent and parentB set). Its own failures are returned; its children's
// are recorded on them.
func (n *Node) run(ctx context.Context, parent map[string]any, parentB Bindings) error {
	name := n.Resource.Name
	if n.OnRetry != nil {
		ctx = withOnRetry(ctx, n.OnRetry)
	}
	b := Bindings{}
	for k, v := range parentB {
		b[k] = v
	}
	var cur *incremental.Cursor
	var parentKey string
	if n.Tracker != nil {
		var err error
		if cur, parentKey, err = n.Tracker.Begin(parentB); err != nil {
			return fmt.Errorf("resource %s: %w", name, err)
		}
		for k, get := range map[string]func() (any, error){StartValue: cur.StartValue, EndValue: cur.EndValue} {
			v, err := get()
			if err != nil {
				return fmt.Errorf("resource %s: %w", name, err)
			}
			if v != nil {
				b[k] = fmt.Sprint(v)
			}
		}
	}
	include := map[string]any{}
	if parent != nil {
		for _, f := range n.IncludeFromParent {
			v, ok := parent[f]
			if !ok {
				return fmt.Errorf("resource %s: include_from_parent: parent %s record has no field %q", name, n.parent.Resource.Name, f)
			}
			include["_"+n.parent.Resource.Name+"_"+f] = v
		}
	}
	res := n.Resource
	res.Bindings = b
	if n.limited() {
		return nil
	}
	st, err := n.Extractor.Run(ctx, res, func(ctx context.Context, page Page) error {
		if n.limited() {
			return errLimited
		}
		kept := page.Records[:0]
		for i, rec := range page.Records {
			for k, v := range include {
				rec[k] = v
			}
			if n.Record != nil {
				var err error
				if rec, err = n.Record(page.Number, i+1, rec); err != nil {
					return err
				}
				if rec == nil {
					continue
				}
			}
			if cur != nil {
				ok, err := cur.Keep(rec)
				if err != nil {
					return fmt.Errorf("resource %s: page %d: record %d: %w", name, page.Number, i+1, err)
				}
				if !ok {
					continue
				}
			}
			kept = append(kept, rec)
		}
		kept = n.take(kept)
		if n.Page != nil {
			if err := n.Page(ctx, page.Number, kept); err != nil {
				return err
			}
		}
		for _, c := range n.children {
			c.runFor(ctx, n, kept)
		}
		if n.limited() {
			return errLimited
		}
		if cur != nil && cur.Closed() && parent == nil {
			// dlt closes only a resource without a parent pipe.
			return errRangeClosed
		}
		return nil
	})
	n.mu.Lock()
	n.pages += st.Pages
	n.mu.Unlock()
	if errors.Is(err, errLimited) {
		return nil // the cursor is not saved: the resource was cut short
	}
	if errors.Is(err, errRangeClosed) {
		err = nil // every record in range was seen: the cursor is saved
	}
	if err != nil {
		return err
	}
	if cur != nil {
		n.Tracker.Done(parentKey, cur)
	}
	return nil
}

// runFor runs child c once for each of recs, the parent's records of one
// page: one after another, or ChildWorkers at once when c is Parallel. A
// failure is recorded on c (and stops its further runs); the parent goes
// on.
func (c *Node) runFor(ctx context.Context, parent *Node, recs []map[string]any) {
	one := func(rec map[string]any) {
		if c.Err() != nil || ctx.Err() != nil || c.limited() {
			return
		}
		b, err := ParentBindings(parent.Resource.Name, c.Refs, rec)
		if err != nil {
			c.Fail(fmt.Errorf("resource %s: %w", c.Resource.Name, err))
			return
		}
		if err := c.run(ctx, rec, b); err != nil {
			c.Fail(err)
		}
	}
	if !c.Parallel || len(recs) < 2 {
		for _, rec := range recs {
			one(rec)
		}
		return
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, ChildWorkers)
	for _, rec := range recs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			one(rec)
		})
	}
	wg.Wait()
}
