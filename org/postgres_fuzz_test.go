package org

import (
	"fmt"
	"testing"

	"github.com/wmpolicy/wmpolicy/policy"
)

// FuzzParseNotification: the change feed's payload decoder never panics,
// accepts only a valid organization ID and two decimal numbers after the
// schema, and what it accepts formats back to the same values.
func FuzzParseNotification(f *testing.F) {
	f.Add("public m-0123456789abcdef0123456789abcdef 3 17")
	f.Add("my schema m-0123456789abcdef0123456789abcdef 1 1")
	f.Add("public m-0123456789abcdef0123456789abcdef 18446744073709551616 1")
	f.Add(" m-0123456789abcdef0123456789abcdef 1 2")
	f.Add("")
	f.Fuzz(func(t *testing.T, payload string) {
		schema, id, rev, change, ok := parseNotification(payload)
		if !ok {
			return
		}
		if !policy.ValidOrganizationID(id) {
			t.Fatalf("accepted ID %q", id)
		}
		s2, id2, rev2, ch2, ok2 := parseNotification(fmt.Sprintf("%s %s %d %d", schema, id, rev, change))
		if !ok2 || s2 != schema || id2 != id || rev2 != rev || ch2 != change {
			t.Fatalf("%q: round trip %q %q %d %d", payload, s2, id2, rev2, ch2)
		}
	})
}
