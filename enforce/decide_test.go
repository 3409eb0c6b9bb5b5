package enforce

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// TestSemanticsE2_DeciderOutcomes: one question per E2 case and per kind of
// rule decision, with the outcome, the resolved user and the deciding rules.
// SEMANTICS E1 (the login resolves by ID, email or user name) and E2 (fail
// closed: unknown, disabled, IPv6, no action are denied).
func TestSemanticsE2_DeciderOutcomes(t *testing.T) {
	src, _, _ := exampleSource(t, nil)
	d := &Decider{Source: src, Log: discardLog()}
	office := netip.MustParseAddr("192.0.2.10")
	home := netip.MustParseAddr("203.0.113.7")
	for _, tc := range []struct {
		name    string
		q       Question
		outcome Outcome
		user    string
		rules   []string
	}{
		{"E1 user name, office", Question{"imap", office, "bob", accessctl.IMAP}, Allowed, bobID, []string{"default"}},
		{"E1 email", Question{"imap", office, "bob@example.com", accessctl.IMAP}, Allowed, bobID, []string{"default"}},
		{"E1 email any case", Question{"imap", office, "BOB@Example.com", accessctl.IMAP}, Allowed, bobID, []string{"default"}},
		{"E1 user ID", Question{"imap", office, bobID, accessctl.IMAP}, Allowed, bobID, []string{"default"}},
		{"E1 IPv4-mapped IPv6 is IPv4", Question{"imap", netip.MustParseAddr("::ffff:192.0.2.10"), "bob", accessctl.IMAP}, Allowed, bobID, []string{"default"}},
		{"explicit deny by rule", Question{"imap", home, "bob", accessctl.IMAP}, ExplicitDeny, bobID, []string{"legacy-protocols-office-only"}},
		{"contractor IMAP", Question{"imap", office, "carol", accessctl.IMAP}, ExplicitDeny, "S-1-1-11-1234567890-1234567890-1234567890-1003", []string{"contractors-webmail-only"}},
		{"E2 unknown login", Question{"imap", office, "mallory", accessctl.IMAP}, UnknownUser, "", nil},
		{"E2 empty login", Question{"imap", office, "", accessctl.IMAP}, UnknownUser, "", nil},
		{"E2 disabled user", Question{"imap", office, "dave", accessctl.IMAP}, UserNotEnabled, daveID, nil},
		{"E2 IPv6 client", Question{"imap", netip.MustParseAddr("2001:db8::1"), "bob", accessctl.IMAP}, NotIPv4, "", nil},
		{"E2 no client address", Question{"imap", netip.Addr{}, "bob", accessctl.IMAP}, NotIPv4, "", nil},
		{"E2 protocol without action (POP3)", Question{"pop3", office, "bob", 0}, NoAction, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Answer
			d.Decide(context.Background(), tc.q, &a)
			if a.Outcome != tc.outcome || a.Allow != (tc.outcome == Allowed) || a.UserID != tc.user ||
				!slices.Equal(a.Rules, tc.rules) || a.Revision != 1 {
				t.Errorf("Decide(%+v) = %+v; want outcome %v, user %q, rules %v, revision 1", tc.q, a, tc.outcome, tc.user, tc.rules)
			}
		})
	}
}

// nilSource has nothing to decide from.
type nilSource struct{}

func (nilSource) Snapshot() Snapshot { return nil }

// TestSemanticsE3_NoSnapshotDenies: a source with no rules (a deleted
// organization) denies every question.
func TestSemanticsE3_NoSnapshotDenies(t *testing.T) {
	d := &Decider{Source: nilSource{}, Log: discardLog()}
	var a Answer
	d.Decide(context.Background(), Question{"imap", netip.MustParseAddr("192.0.2.1"), "bob", accessctl.IMAP}, &a)
	if a.Allow || a.Outcome != NoSnapshot {
		t.Fatalf("Decide with no snapshot = %+v, want NoSnapshot deny", a)
	}
}

// TestDecisionLoggedOnce: every decision is one record carrying protocol,
// client, login, resolved user, effect, reason, rules and revision; the
// disabled user's record says so while the answer is a plain deny.
func TestDecisionLoggedOnce(t *testing.T) {
	var buf logBuffer
	src, _, _ := exampleSource(t, nil)
	d := &Decider{Source: src, Log: jsonLog(&buf)}
	var a Answer
	d.Decide(context.Background(), Question{"imap", netip.MustParseAddr("203.0.113.7"), "bob", accessctl.IMAP}, &a)
	d.Decide(context.Background(), Question{"pop3", netip.MustParseAddr("192.0.2.7"), "dave@example.com", accessctl.IMAP}, &a)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 records, got %d:\n%s", len(lines), buf.String())
	}
	var r1, r2 map[string]any
	json.Unmarshal([]byte(lines[0]), &r1)
	json.Unmarshal([]byte(lines[1]), &r2)
	want1 := map[string]any{"level": "WARN", "msg": "decision", "protocol": "imap", "client": "203.0.113.7", "login": "bob",
		"user": bobID, "effect": "DENY", "reason": "explicit deny", "rules": []any{"legacy-protocols-office-only"}, "revision": float64(1)}
	for k, v := range want1 {
		if got := r1[k]; !jsonEqual(got, v) {
			t.Errorf("record 1 %s = %v, want %v", k, got, v)
		}
	}
	if r2["reason"] != "user not enabled" || r2["effect"] != "DENY" || r2["user"] != daveID {
		t.Errorf("record 2 = %v, want a DENY for a user not enabled", r2)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestDecideAllocs: with a discarding logger Decide does not allocate once
// the Answer's Rules have room (the per-decision work is allocation-free).
func TestDecideAllocs(t *testing.T) {
	src, _, _ := exampleSource(t, nil)
	d := &Decider{Source: src, Log: discardLog()}
	qs := []Question{
		{"imap", netip.MustParseAddr("192.0.2.10"), "bob", accessctl.IMAP},
		{"imap", netip.MustParseAddr("203.0.113.7"), "bob@example.com", accessctl.IMAP},
		{"smtp", netip.MustParseAddr("192.0.2.10"), "dave", accessctl.SMTP},
		{"imap", netip.MustParseAddr("192.0.2.10"), "mallory", accessctl.IMAP},
	}
	a := Answer{Rules: make([]string, 0, 8)}
	ctx := context.Background()
	for _, q := range qs {
		if n := testing.AllocsPerRun(200, func() { d.Decide(ctx, q, &a) }); n != 0 {
			t.Errorf("Decide(%+v) allocates %v times, want 0", q, n)
		}
	}
}

// TestOutcomeString: every outcome has a log name.
func TestOutcomeString(t *testing.T) {
	for o := NoSnapshot; o <= Allowed; o++ {
		if s := o.String(); s == "" || s == "invalid outcome" {
			t.Errorf("Outcome(%d).String() = %q", o, s)
		}
	}
	if Outcome(0).String() != "invalid outcome" || Outcome(200).String() != "invalid outcome" {
		t.Error("invalid outcomes must say so")
	}
}
