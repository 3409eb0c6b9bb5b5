package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestServeUsage: serve refuses to start without one source of rules or
// without a listener, and says why (exit 3).
func TestServeUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no rules"},
		{[]string{"--rules", "r.json"}, "--rules and --users go together"},
		{[]string{"--rules", "r", "--users", "u", "--state", "d"}, "two different sources"},
		{[]string{"--org", "m-00000000000000000000000000000000", "--rules", "r", "--users", "u"}, "--org goes with --state"},
		{[]string{"--rules", "../../examples/org/rules.json", "--users", "../../examples/org/users.json"}, "no listener"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"serve"}, tc.args...), nil, &stdout, &stderr); code != exitInvalid {
			t.Errorf("serve %v: exit %d, want %d; stderr: %s", tc.args, code, exitInvalid, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %v: stderr %q does not say %q", tc.args, stderr.String(), tc.want)
		}
	}
}
