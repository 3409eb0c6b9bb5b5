package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestServeHTTPUsage: the HTTP listeners refuse bad flags before listening.
func TestServeHTTPUsage(t *testing.T) {
	files := []string{"--rules", "../../examples/org/rules.json", "--users", "../../examples/org/users.json"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--http-authz", "127.0.0.1:0", "--trusted-proxies", "10.0.0.0/33"}, "--trusted-proxies"},
		{[]string{"--http-authz", "127.0.0.1:0", "--http-paths", "/EWS/=Ews"}, "did you mean"},
		{[]string{"--http-authz", "127.0.0.1:0"}, "--http-front nginx|envoy|auto is required"},
		{[]string{"--ews-proxy", "127.0.0.1:0"}, "--ews-upstream URL is required"},
		{[]string{"--ews-proxy", "127.0.0.1:0", "--ews-upstream", "ftp://x"}, "http:// or https://"},
		{[]string{"--ews-proxy", "127.0.0.1:0", "--ews-upstream", "http://127.0.0.1:1", "--ews-org", "m-d281d0a2fd824be5b6cd3d3ce909fd27"}, "needs --ews-org, --ews-keys and at least one --ews-role"},
		{[]string{"--ews-proxy", "127.0.0.1:0", "--ews-upstream", "http://127.0.0.1:1", "--ews-max-soap-header", "2000000"}, "SOAP header limit"},
		{[]string{"--ews-proxy", "127.0.0.1:0", "--ews-upstream", "http://127.0.0.1:1", "--ews-org", "m-d281d0a2fd824be5b6cd3d3ce909fd27",
			"--ews-keys", "../../examples/org/demo-key.json", "--ews-role", "../../examples/org/roles.json"}, "--ews-role"},
	} {
		var stdout, stderr bytes.Buffer
		args := append(append([]string{"serve"}, files...), tc.args...)
		if code := run(args, nil, &stdout, &stderr); code != exitInvalid {
			t.Errorf("serve %v: exit %d, want %d; stderr: %s", tc.args, code, exitInvalid, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %v: stderr %q does not say %q", tc.args, stderr.String(), tc.want)
		}
	}
}
