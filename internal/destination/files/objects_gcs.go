//go:build !nogcs

package files

// gs:// bucket URLs. The Google Cloud SDK adds ~30 MB to the binary (166 MB with it, 135 without): build
// with -tags nogcs to leave it out.
import _ "gocloud.dev/blob/gcsblob"
