package enforce

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// FuzzParseEWSRequest: the SOAP header extraction never panics, reads only
// the prefix, and what it returns is consistent (SEMANTICS E8).
func FuzzParseEWSRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/ews/*.xml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
		f.Add(b[:len(b)/2], false)
	}
	f.Add([]byte(envOpen+`<s:Header>`+imp+`</s:Header>`+body+envClose), true)
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]>`+envOpen+body+envClose), true)
	f.Add([]byte(envOpen+`<s:Header>`+imp+imp+`</s:Header>`+body+envClose), true)
	f.Fuzz(func(t *testing.T, data []byte, complete bool) {
		req, err := ParseEWSRequest(data, complete)
		if err != nil {
			if req != (EWSRequest{}) {
				t.Fatalf("error %v with a result %+v", err, req)
			}
			return
		}
		if req.Impersonated != (req.TargetKind != "") || req.Impersonated != (req.Target != "") {
			t.Fatalf("inconsistent result %+v", req)
		}
		if len(req.Target) > MaxTargetTextLen || strings.TrimSpace(req.Target) != req.Target {
			t.Fatalf("target %q", req.Target)
		}
		if complete && req.Operation == "" {
			t.Fatalf("a complete body without an operation was accepted")
		}
	})
}

// FuzzCleanPath: CleanPath never panics, and a path it returns is absolute,
// clean and free of control characters, so that PathActions sees what the
// server behind routes (SEMANTICS E7).
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/EWS/Exchange.asmx", "/owa/..%2fEWS/x", "/a\\..\\b", "//x//y", "http://h/p?q", "/%zz", "/a%00", "*"} {
		f.Add(s)
	}
	def := DefaultPathActions()
	f.Fuzz(func(t *testing.T, uri string) {
		p, err := CleanPath(uri)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.Contains(p, "\\") ||
			strings.Contains(p, "/./") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.HasSuffix(p, "/.") ||
			(len(p) > 1 && strings.HasSuffix(p, "/")) {
			t.Fatalf("CleanPath(%q) = %q is not clean", uri, p)
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] == 0x7f {
				t.Fatalf("CleanPath(%q) = %q holds a control character", uri, p)
			}
		}
		a := def.Action(p)
		if !a.Valid() {
			t.Fatalf("default table gave no action for %q", p)
		}
		if isASCII(p) && def.Action(strings.ToUpper(p)) != a {
			t.Fatalf("case changed the action of %q", p)
		}
	})
}

// FuzzClientAddr: X-Forwarded-For parsing never panics and never answers a
// trusted proxy's address for a trusted peer (SEMANTICS E7).
func FuzzClientAddr(f *testing.F) {
	f.Add("127.0.0.1:1", "192.0.2.1, 10.0.0.1")
	f.Add("127.0.0.1:1", "garbage")
	f.Add("[::1]:1", "[2001:db8::1]:80,::ffff:1.2.3.4")
	f.Add("10.1.1.1:1", "")
	tp, err := ParseTrustedProxies("127.0.0.1,::1,10.0.0.0/8")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		a, err := tp.ClientAddr(peer, strings.Split(xff, "\n"))
		if err != nil {
			return
		}
		if !a.IsValid() || a.Is4In6() || a.Zone() != "" {
			t.Fatalf("ClientAddr(%q, %q) = %v", peer, xff, a)
		}
		if tp.Trusted(a) {
			t.Fatalf("ClientAddr(%q, %q) = %v, a trusted proxy", peer, xff, a)
		}
	})
}

// FuzzCredentials: the Authorization and user headers never panic, a Bearer
// token is never taken for a user, and a login is never empty.
func FuzzCredentials(f *testing.F) {
	f.Add("Basic Ym9iOnNlY3JldA==", "")
	f.Add("Bearer abc", "carol")
	f.Add("bearer\tabc", "")
	f.Add("Basic", "x")
	f.Add("NTLM TlRMTVNTUAAB", "")
	f.Fuzz(func(t *testing.T, auth, user string) {
		h := http.Header{}
		h.Set("Authorization", auth)
		h.Set("X-Remote-User", user)
		kind, login := credentials(h, "X-Remote-User")
		if (kind == credNone) != (login == "") {
			t.Fatalf("credentials(%q, %q) = %v, %q", auth, user, kind, login)
		}
		if kind != credBearer && len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") && strings.TrimSpace(auth[7:]) != "" {
			t.Fatalf("Bearer %q read as %v", auth, kind)
		}
	})
}

// FuzzDecodeKeyFile: the key file reader never panics and never accepts a
// ring without a key.
func FuzzDecodeKeyFile(f *testing.F) {
	if b, err := os.ReadFile("testdata/ews/demo-key.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"Keys": []}`))
	f.Add([]byte(`{"Keys": [{"Id": "a", "Secret": "!!"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ring, err := decodeKeyFile(data)
		if err == nil && (ring == nil || ring.CurrentKeyID() == "") {
			t.Fatalf("accepted a ring without a key")
		}
	})
}
