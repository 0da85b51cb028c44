// Package httpclient sends restload's HTTP requests: it retries throttled
// and failed requests with exponential backoff and Retry-After, limits
// concurrency and request rate per host, and keeps secrets out of errors and
// logs.
//
// Authentication is not done here: it is an http.RoundTripper (see package
// auth) inside the *http.Client that Client wraps, so every retry is
// authenticated afresh.
package httpclient
