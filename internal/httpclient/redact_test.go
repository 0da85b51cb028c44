package httpclient

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestRedactorURL(t *testing.T) {
	r := NewRedactor("hunter2", "p@ss word")
	tests := []struct{ in, want string }{
		{"https://api.example.com/v2/files?limit=100&page=3", "https://api.example.com/v2/files?limit=100&page=3"},
		{"https://u:pw@api.example.com/x", "https://u:[REDACTED]@api.example.com/x"},
		{"https://u@api.example.com/x", "https://u@api.example.com/x"},
		{"https://h/x?Access_Token=abc&limit=1&client-secret=z&monkey=1", "https://h/x?Access_Token=[REDACTED]&limit=1&client-secret=[REDACTED]&monkey=1"},
		{"https://h/x?q=hunter2", "https://h/x?q=[REDACTED]"},
		{"https://h/x?q=p%40ss+word", "https://h/x?q=[REDACTED]"},
		{"https://h/hunter2/x", "https://h/[REDACTED]/x"},
		{"https://h/x?sig=1&code=2&key=3&x_api_key=4", "https://h/x?sig=[REDACTED]&code=[REDACTED]&key=[REDACTED]&x_api_key=[REDACTED]"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.URL(u); got != tt.want {
			t.Errorf("URL(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
	var nilR *Redactor
	u, _ := url.Parse("https://h/x?token=abc")
	if got := nilR.URL(u); got != "https://h/x?token=[REDACTED]" {
		t.Errorf("nil redactor URL = %s", got)
	}
}

func TestRedactorStringLongestFirst(t *testing.T) {
	r := NewRedactor("abcd", "abcdefgh", "", "xyz")
	if got := r.String("x abcdefgh y abcd"); got != "x [REDACTED] y [REDACTED]" {
		t.Errorf("got %q", got)
	}
	// Values shorter than MinSecretLen are not masked: they would mangle
	// ordinary words ("connection refused" with a secret "r").
	if got := r.String("xyz"); got != "xyz" {
		t.Errorf("short value masked: got %q", got)
	}
	if got := r.String("nothing here"); got != "nothing here" {
		t.Errorf("got %q", got)
	}
}

func TestRedactorConcurrentAdd(t *testing.T) {
	r := NewRedactor()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			r.Add("secret" + string(rune('a'+i)))
			_ = r.String("secreta secretb")
		})
	}
	wg.Wait()
	if got := r.String("secreta secretd"); got != "[REDACTED] [REDACTED]" {
		t.Errorf("got %q", got)
	}
}

func TestRedactorErrorKeepsChain(t *testing.T) {
	base := errors.New("token abcd rejected")
	err := NewRedactor("abcd").Error(base)
	if err.Error() != "token [REDACTED] rejected" || !errors.Is(err, base) {
		t.Errorf("got %v (is base: %v)", err, errors.Is(err, base))
	}
}

func TestRedactHandler(t *testing.T) {
	var buf bytes.Buffer
	r := NewRedactor("tok123")
	log := slog.New(RedactHandler(slog.NewTextHandler(&buf, nil), r)).With("header", "Bearer tok123")
	u, _ := url.Parse("https://h/x?api_key=zzz")
	log.Info("sending tok123",
		"url", u,
		"err", errors.New("bad tok123"),
		"password", "plain",
		slog.Group("req", "auth", "tok123", "n", 3),
		"raw", []byte("tok123"),
	)
	out := buf.String()
	if strings.Contains(out, "tok123") || strings.Contains(out, "zzz") || strings.Contains(out, "plain") {
		t.Fatalf("log leaks a secret: %s", out)
	}
	for _, s := range []string{`msg="sending [REDACTED]"`, `header="Bearer [REDACTED]"`, `url="https://h/x?api_key=[REDACTED]"`, `req.n=3`, `password=[REDACTED]`} {
		if !strings.Contains(out, s) {
			t.Errorf("log %s lacks %s", out, s)
		}
	}
}
