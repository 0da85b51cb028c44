// Package httpclient sends restload's HTTP requests: it retries throttled
// and failed requests with exponential backoff and Retry-After, limits
// concurrency and request rate per host, and keeps secrets out of errors and
// logs.
//
// Client.DoRead reads a response's body inside the attempt that got it, so a
// body that is cut short, reset, stalled (Client.IdleReadTimeout) or late
// (Client.Timeout, headers and body) is retried like a connection error,
// and bounds the body's size (Client.MaxBodyBytes, decompressed).
//
// The retry policy's defaults are DefaultPolicy's and nowhere else; the
// pipeline file's retry block only overrides them (config.Retry.Policy).
//
// Authentication is not done here: it is an http.RoundTripper (see package
// auth) inside the *http.Client that Client wraps, so every retry is
// authenticated afresh. New owns how a run's API client is assembled: the
// base transport (NewTransport), the CredentialGuard that keeps credentials
// on the API's origin, the auth decorator with a TokenRecorder client for
// its token requests, and the redirect policy.
package httpclient
