package analysis

import (
	"encoding/json"
	"testing"

	"github.com/wmpolicy/wmpolicy/policy"
)

// A condition without a matching item leaves out Index and Item; a rule
// without conditions has "Conditions": [] (the shape 'wmpolicy explain
// --output json' prints).
func TestTraceJSON(t *testing.T) {
	tr := RuleTrace{Name: "r", Index: 2, Effect: policy.Deny, Matches: true}
	got, err := json.Marshal([]RuleTrace{tr, {Name: "s", Effect: policy.Allow, Conditions: []Condition{
		{Field: "IpRanges", Holds: true, Index: 0, Item: "192.0.2.0/24", Detail: "in"},
		{Field: "Actions", Index: -1, Detail: "not listed"},
	}}})
	want := `[{"Name":"r","Index":2,"Effect":"DENY","Matches":true,"Decisive":false,"Conditions":[]},` +
		`{"Name":"s","Index":0,"Effect":"ALLOW","Matches":false,"Decisive":false,"Conditions":[` +
		`{"Field":"IpRanges","Holds":true,"Index":0,"Item":"192.0.2.0/24","Detail":"in"},` +
		`{"Field":"Actions","Holds":false,"Detail":"not listed"}]}]`
	if err != nil || string(got) != want {
		t.Errorf("got %s, %v\nwant %s", got, err, want)
	}
}
