//go:build !noazure

package files

// azblob:// bucket URLs. The Azure SDK adds ~11 MB to the binary: build
// with -tags noazure to leave it out.
import _ "gocloud.dev/blob/azureblob"
