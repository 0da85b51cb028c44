package main

import (
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// s3Bucket is the bucket the parquet-s3 and jsonl-s3 destinations load into.
const s3Bucket = "bench"

// startFakeS3 starts an S3-compatible server in this process (gofakes3,
// in memory) on 127.0.0.1 for the -s3 destinations; stop closes it.
func startFakeS3() (endpoint string, stop func(), err error) {
	backend := s3mem.New()
	if err := backend.CreateBucket(s3Bucket); err != nil {
		return "", nil, err
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	return srv.URL, srv.Close, nil
}

// s3Dest is the URL of dest (parquet-s3, jsonl-s3) under prefix tag on the
// fake S3 at endpoint.
func s3Dest(dest, endpoint, tag string) string {
	return strings.TrimSuffix(dest, "-s3") + ":s3://" + s3Bucket + "/" + tag +
		"?endpoint=" + url.QueryEscape(endpoint) + "&region=us-east-1&use_path_style=true&anonymous=true"
}
