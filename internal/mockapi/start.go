package mockapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Running is a Server listening on a real socket.
type Running struct {
	// URL is the API base URL, e.g. "http://127.0.0.1:PORT/v2".
	URL string
	// TokenURL is URL + "/auth/token".
	TokenURL string
	// Addr is the listening address, e.g. "127.0.0.1:PORT".
	Addr   string
	Server *Server
	// OtherURL is the base URL of the second listener, standing in for
	// another host, that Start opens for redirect faults ("" otherwise);
	// Server.OtherHostHeaders lists what reached it.
	OtherURL string
	other    *Running

	srv       *http.Server
	done      chan struct{} // closed when Serve returns
	closeOnce sync.Once
	closeErr  error
	stopWatch chan struct{}

	ln net.Listener

	connMu   sync.Mutex
	newConns map[net.Conn]struct{} // accepted connections that have not sent a request yet
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves a new
// Server for opts in the background until ctx is done or Close is called.
// It returns once the listener is bound, so URL is immediately usable.
func Start(ctx context.Context, addr string, opts Options) (*Running, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mockapi: listen on %s: %w", addr, err)
	}
	var other *Running
	if opts.BodyFault == FaultRedirect && opts.RedirectURL == "" {
		if other, err = startOther(ctx, ln.Addr()); err != nil {
			_ = ln.Close()
			return nil, err
		}
		opts.RedirectURL = "http://" + other.Addr
	}
	s := New(opts)
	if other != nil {
		other.Server = s
		other.srv.Handler = otherHost{s}
		go other.serve()
	}
	bound := ln.Addr().String()
	r := &Running{
		URL:       "http://" + bound + "/v2",
		TokenURL:  "http://" + bound + "/v2/auth/token",
		Addr:      bound,
		Server:    s,
		srv:       &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second},
		done:      make(chan struct{}),
		stopWatch: make(chan struct{}),
		newConns:  make(map[net.Conn]struct{}),
	}
	if other != nil {
		r.other, r.OtherURL = other, "http://"+other.Addr+"/v2"
	}
	r.srv.ConnState = r.trackConn
	r.ln = ln
	go r.serve()
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Close()
		case <-r.stopWatch:
		}
	}()
	return r, nil
}

func (r *Running) serve() {
	defer close(r.done)
	_ = r.srv.Serve(r.ln) // always non-nil; ErrServerClosed after Close
}

// startOther listens on another loopback address than main's (127.0.0.2
// when main is 127.0.0.1 and it can; else another port) for the other host
// of redirect faults. Its handler is set, and serving started, by Start.
func startOther(ctx context.Context, main net.Addr) (*Running, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.2:0")
	if err != nil || main.(*net.TCPAddr).IP.Equal(net.IPv4(127, 0, 0, 2)) {
		if ln != nil {
			_ = ln.Close()
		}
		host, _, _ := net.SplitHostPort(main.String())
		if ln, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, "0")); err != nil {
			return nil, fmt.Errorf("mockapi: listen for the redirect target: %w", err)
		}
	}
	o := &Running{
		Addr:      ln.Addr().String(),
		ln:        ln,
		srv:       &http.Server{ReadHeaderTimeout: 10 * time.Second},
		done:      make(chan struct{}),
		stopWatch: make(chan struct{}),
		newConns:  make(map[net.Conn]struct{}),
	}
	o.srv.ConnState = o.trackConn
	return o, nil
}

// Close stops the server: it stops accepting connections, closes idle ones
// and waits up to five seconds for in-flight requests before closing the rest.
// It blocks until the serving goroutine has exited and is safe to call more
// than once; later calls return the first call's result.
func (r *Running) Close() error {
	r.closeOnce.Do(func() {
		close(r.stopWatch)
		if r.other != nil {
			defer func() { r.closeErr = errors.Join(r.closeErr, r.other.Close()) }()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- r.srv.Shutdown(ctx) }()
		// Shutdown waits for in-flight requests but counts a connection
		// a client opened and has not used yet as busy for five seconds;
		// such connections carry nothing, so close them as they appear.
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-errc:
				if err != nil {
					r.closeErr = errors.Join(fmt.Errorf("mockapi: shutdown: %w", err), r.srv.Close())
				}
				<-r.done
				return
			case <-tick.C:
				r.closeNewConns()
			}
		}
	})
	return r.closeErr
}

// trackConn remembers connections that have not yet sent a request.
func (r *Running) trackConn(c net.Conn, st http.ConnState) {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	if st == http.StateNew {
		r.newConns[c] = struct{}{}
	} else {
		delete(r.newConns, c)
	}
}

func (r *Running) closeNewConns() {
	r.connMu.Lock()
	defer r.connMu.Unlock()
	for c := range r.newConns {
		_ = c.Close()
		delete(r.newConns, c)
	}
}
