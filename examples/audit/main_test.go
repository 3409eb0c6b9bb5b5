package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var b strings.Builder
	changed, err := run("../org", "proposed.json", &b)
	if err != nil {
		t.Fatal(err)
	}
	want := `audit of the current rules: 0 findings
audit of the proposed rules: 1 findings
  suggestion: Rules[2].IpRanges[1] (block-abusive-networks): 203.0.113.128/25 is inside IpRanges[2] 203.0.113.0/24, so it adds nothing [nested-range]
the proposal is incomparable:
  newly allowed: 10.9.0.0/16 IMAP,SMTP for any other user
    e.g. 10.9.0.1 IMAP as bob
  newly denied: 203.0.113.0/25 WebMail for carol
    e.g. 203.0.113.1 WebMail as carol
  newly denied: 203.0.113.0/25 ActiveSync,AutoDiscover,EWS,WindowsOutlook,WebMail for any other user
    e.g. 203.0.113.1 ActiveSync as bob
  newly denied: 203.0.113.0/25 EWS for any other role
    e.g. 203.0.113.1 EWS as role 00000000-0000-4000-8000-000000000001
`
	if !changed || b.String() != want {
		t.Errorf("changed=%v, got:\n%s\nwant:\n%s", changed, b.String(), want)
	}
	changed, err = run("../org", "../org/rules.json", &b)
	if err != nil || changed {
		t.Errorf("the current rules against themselves: changed=%v, %v", changed, err)
	}
}
