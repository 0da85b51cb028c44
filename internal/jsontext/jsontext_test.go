package jsontext

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestAppendStringMatchesEncodingJSON holds AppendString to encoding/json,
// byte for byte, on awkward and random strings.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `"quoted" \\ back/slash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<html> & </html>", "line\u2028sep\u2029para", "héllo 日本語 🚀", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80 surrogate",
		"Budget \"v2\" \\ draft\nnotes", "a<b>&c"} // the last two: the mock API's awkward names
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\"\\<>&\n\t\x00\x1f\x7f\xc3\xa9\xe2\x80\xa8\xff")
	for range 5000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		strs = append(strs, string(b))
	}
	// Longer plain text with a byte that needs escaping (any byte value)
	// at any place: the eight-byte fast path must stop at each.
	for c := range 256 {
		for n := range 40 {
			for _, at := range []int{0, n / 2, n - 1} {
				b := []byte("the quick brown fox jumps over the lazy dog"[:n])
				if at >= 0 && at < n {
					b[at] = byte(c)
				}
				strs = append(strs, string(b))
			}
		}
	}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("string %q: got %s, want %s", s, got, want)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := "Quarterly revenue dashboard for the EMEA sales team (v2)"
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
