package load

import (
	"context"

	"github.com/restload/restload/internal/schema"
	"github.com/restload/restload/internal/spool"
)

// Scheduler loads resources into a Load's open transaction on a goroutine
// of its own, in the order they were handed over: parts of resources that
// still extract (Part) and the rest of each resource whose extraction
// finished (Resource). Its first error calls the onError given to
// Schedule (a run cancels its extraction there); nothing more is loaded
// after it. Part and Resource are safe for concurrent use until Wait.
type Scheduler struct {
	queue chan scheduled
	done  chan error
}

// scheduled is a resource to load: the parts up to upto of its tables, or,
// with upto nil, the rest of it (the resource finished).
type scheduled struct {
	r    spool.ResourceTarget
	s    *schema.Schema
	upto map[string]int
}

// Schedule starts the Scheduler of l, loading from pkg. capacity is its
// queue's length: a hand-over waits while the queue is full (the
// scheduler always drains it). Until Wait returns, l belongs to the
// scheduler.
func (l *Load) Schedule(ctx context.Context, pkg *spool.Package, capacity int, onError func()) *Scheduler {
	sc := &Scheduler{queue: make(chan scheduled, capacity), done: make(chan error, 1)}
	go func() {
		var err error
		for it := range sc.queue {
			if err != nil {
				continue
			}
			if it.upto != nil {
				err = l.Part(ctx, pkg, it.r, it.s, it.upto)
			} else {
				err = l.Resource(ctx, pkg, it.r, it.s)
			}
			if err != nil && onError != nil {
				onError()
			}
		}
		sc.done <- err
	}()
	return sc
}

// Resource queues r, whose extraction succeeded, for loading (see
// Load.Resource).
func (sc *Scheduler) Resource(r spool.ResourceTarget, s *schema.Schema) {
	sc.queue <- scheduled{r: r, s: s}
}

// Part queues the parts up to upto of r's tables (see Load.Part); s is r's
// schema as of them, which the caller no longer changes.
func (sc *Scheduler) Part(r spool.ResourceTarget, s *schema.Schema, upto map[string]int) {
	sc.queue <- scheduled{r: r, s: s, upto: upto}
}

// Wait waits until every queued resource is loaded (or the first load
// failed) and returns the first error. Nothing may be queued after it.
func (sc *Scheduler) Wait() error {
	close(sc.queue)
	return <-sc.done
}
