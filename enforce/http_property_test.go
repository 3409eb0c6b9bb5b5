package enforce

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"pgregory.net/rapid"
)

// naiveAction is the obviously correct reading of a path table: split both
// into segments, lower-case them, and take the first prefix whose segments
// begin the path's.
func naiveAction(table [][2]string, fallback accessctl.Action, path string) accessctl.Action {
	segs := strings.Split(strings.ToLower(strings.Trim(path, "/")), "/")
	for _, e := range table {
		pre := strings.Split(strings.ToLower(strings.Trim(e[0], "/")), "/")
		if len(pre) > len(segs) {
			continue
		}
		match := true
		for i := range pre {
			if pre[i] != segs[i] {
				match = false
				break
			}
		}
		if match {
			a, _ := accessctl.ParseAction(e[1])
			return a
		}
	}
	return fallback
}

// SEMANTICS E7: PathActions.Action agrees with the naive reading on random
// tables and random paths built from the same segments in random case.
func TestSemanticsE7_PathActionsProperty(t *testing.T) {
	segments := []string{"ews", "ewsx", "owa", "owa2", "Microsoft-Server-ActiveSync", "a", "ab", "x.y"}
	actions := []string{"EWS", "ActiveSync", "AutoDiscover", "WindowsOutlook", "WebMail", "IMAP"}
	randCase := func(t *rapid.T, s, label string) string {
		b := []byte(s)
		for i := range b {
			if rapid.Bool().Draw(t, label) {
				b[i] = strings.ToUpper(string(b[i]))[0]
			}
		}
		return string(b)
	}
	rapid.Check(t, func(t *rapid.T) {
		var table [][2]string
		var text []string
		seen := map[string]bool{}
		for i, n := 0, rapid.IntRange(0, 5).Draw(t, "prefixes"); i < n; i++ {
			segs := rapid.SliceOfN(rapid.SampledFrom(segments), 1, 3).Draw(t, "prefix")
			pre := "/" + randCase(t, strings.Join(segs, "/"), "case")
			if rapid.Bool().Draw(t, "slash") {
				pre += "/"
			}
			key := strings.ToLower(strings.TrimSuffix(pre, "/"))
			if seen[key] {
				continue
			}
			seen[key] = true
			act := rapid.SampledFrom(actions).Draw(t, "action")
			table = append(table, [2]string{pre, act})
			text = append(text, pre+"="+act)
		}
		var fallback accessctl.Action
		if rapid.Bool().Draw(t, "fallback") {
			fb := rapid.SampledFrom(actions).Draw(t, "fallback-action")
			fallback, _ = accessctl.ParseAction(fb)
			text = append(text, "*="+fb)
		}
		if len(text) == 0 {
			return
		}
		p, err := ParsePathActions(strings.Join(text, ","))
		if err != nil {
			t.Fatalf("ParsePathActions(%q): %v", strings.Join(text, ","), err)
		}
		path := "/" + randCase(t, strings.Join(rapid.SliceOfN(rapid.SampledFrom(segments), 0, 4).Draw(t, "path"), "/"), "path-case")
		clean, err := CleanPath(path)
		if err != nil {
			t.Fatalf("CleanPath(%q): %v", path, err)
		}
		if got, want := p.Action(clean), naiveAction(table, fallback, clean); got != want {
			t.Fatalf("table %q, path %q: Action = %v, naive %v", text, clean, got, want)
		}
	})
}

// SEMANTICS E7: ClientAddr agrees with a naive reading of X-Forwarded-For:
// split every line at commas, walk from the right, skip trusted proxies.
func TestSemanticsE7_ClientAddrProperty(t *testing.T) {
	tp, err := ParseTrustedProxies("127.0.0.0/24,10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	addrs := []string{"127.0.0.1", "127.0.0.9", "10.1.2.3", "192.0.2.1", "198.51.100.7", "127.0.1.5", "::ffff:10.0.0.1", "2001:db8::1"}
	rapid.Check(t, func(t *rapid.T) {
		peer := rapid.SampledFrom([]string{"127.0.0.1:1", "10.0.0.5:2", "192.0.2.9:3", "[::ffff:127.0.0.2]:4"}).Draw(t, "peer")
		var lines []string
		var all []string
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "lines"); i < n; i++ {
			items := rapid.SliceOfN(rapid.SampledFrom(addrs), 1, 3).Draw(t, "items")
			all = append(all, items...)
			lines = append(lines, strings.Join(items, ", "))
		}
		got, err := tp.ClientAddr(peer, lines)
		ap := netip.MustParseAddrPort(peer)
		var want netip.Addr
		if !tp.Trusted(ap.Addr()) {
			want = ap.Addr().Unmap()
		} else {
			for i := len(all) - 1; i >= 0; i-- {
				a := netip.MustParseAddr(all[i]).Unmap()
				if !tp.Trusted(a) {
					want = a
					break
				}
			}
		}
		switch {
		case !want.IsValid() && err != ErrNoClient:
			t.Fatalf("ClientAddr(%q, %q) = %v, %v; want ErrNoClient", peer, lines, got, err)
		case want.IsValid() && (err != nil || got != want):
			t.Fatalf("ClientAddr(%q, %q) = %v, %v; want %v", peer, lines, got, err, want)
		}
	})
}
