package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes written as "512MB", "1.5GiB" or a plain
// number of bytes.
type ByteSize int64

// byteUnits are the units ParseByteSize takes (case-insensitive): decimal
// (KB, MB, GB, TB) as DuckDB reads them, and binary (KiB, MiB, GiB, TiB).
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseByteSize reads a size such as "512MB", "1.5 GiB" or "268435456".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	f, err := strconv.ParseFloat(num, 64)
	mult, known := byteUnits[unit]
	if err != nil || !known {
		return 0, fmt.Errorf("%q is not a size (want a number of bytes, or one with a unit such as 512MB or 2GiB)", s)
	}
	if f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(f * mult), nil
}

// String writes b in the largest binary unit that keeps it whole.
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		size ByteSize
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b >= u.size && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MinMemory is the smallest limits.memory (and run --memory) restload
// takes: below it the process's fixed costs leave the work nothing.
const MinMemory ByteSize = 192 << 20
