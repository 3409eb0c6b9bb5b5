package suggest

import "testing"

func TestSuggest(t *testing.T) {
	actions := []string{"ActiveSync", "AutoDiscover", "EWS", "IMAP", "SMTP", "WindowsOutlook", "WebMail"}
	fields := []string{"IpRanges", "NotIpRanges", "Actions", "NotActions", "Name"}
	for _, tc := range []struct {
		s     string
		cands []string
		want  string
	}{
		{"Imap", actions, "IMAP"}, // SEMANTICS A11: case
		{"imap", actions, "IMAP"}, // case
		{"IMPA", actions, "IMAP"}, // transposition: 2 edits
		{"ActivSync", actions, "ActiveSync"},
		{"Webmail", actions, "WebMail"},
		{"POP3", actions, ""},                 // nothing close
		{"NotIpRange", fields, "NotIpRanges"}, // SEMANTICS D2: the typo that must not widen a rule
		{"name", fields, "Name"},
		{"X", fields, ""},
		{string(make([]byte, 100)), fields, ""},
	} {
		if got := Closest(tc.s, tc.cands); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
