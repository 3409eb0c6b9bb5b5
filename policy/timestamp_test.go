package policy

import (
	"math"
	"testing"
)

// SEMANTICS D2: timestamps are written as epoch seconds and read back exactly.
func TestSemanticsD2_TimestampRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ts   Timestamp
		text string
	}{
		{0, "0"},
		{1581635628 * 1e9, "1581635628"},
		{1532459261827000000, "1532459261.827"},
		{-1500000000, "-1.5"},
		{-500000000, "-0.5"},
		{-1, "-0.000000001"},
		{1, "0.000000001"},
	} {
		b, err := tc.ts.MarshalJSON()
		if err != nil || string(b) != tc.text {
			t.Errorf("Marshal(%d) = %s, %v; want %s", int64(tc.ts), b, err, tc.text)
		}
		var back Timestamp
		if err := back.UnmarshalJSON(b); err != nil || back != tc.ts {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d", b, int64(back), err, int64(tc.ts))
		}
	}
	for _, bad := range []string{"9999999999.999999999", "99999999999", "1e400", `"yesterday"`, "", "-", "1.2.3", "0x10"} {
		var ts Timestamp
		if err := ts.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("Unmarshal(%q) = %d, want an error", bad, int64(ts))
		}
	}
	if b, err := Timestamp(math.MinInt64).MarshalJSON(); err != nil || string(b) != "-9223372036.854775808" {
		t.Errorf("Marshal(MinInt64) = %s, %v", b, err)
	}
}
