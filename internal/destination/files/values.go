package files

import (
	"math"
	"time"
)

// Row values reach the codecs already canonical (destination.ConverterFor):
// dates as time.Time at UTC midnight, which parquet stores as days.

const secondsPerDay = 86400

func daysSinceEpoch(t time.Time) int32 {
	return int32(math.Floor(float64(t.Unix()) / secondsPerDay))
}

func dateFromDays(d int32) time.Time {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC()
}
