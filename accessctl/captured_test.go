package accessctl_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS D3: list-access-control-rules output as AWS CLI v2 prints it —
// ISO 8601 with microseconds in UTC, in a time zone across daylight saving
// time (-08:00 and -07:00), and epoch numbers — loads, and every form gives
// the same rules and timestamps.
func TestSemanticsD3_CapturedListAccessControlRules(t *testing.T) {
	var want []accessctl.Rule
	for i, name := range []string{"list-access-control-rules.json", "list-access-control-rules.tz-america-los-angeles.json", "list-access-control-rules.epoch.json"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "captured", name))
		if err != nil {
			t.Fatal(err)
		}
		rules, err := accessctl.DecodeRules(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if i == 0 {
			want = rules
			if got := rules[0].DateCreated; got != policy.Timestamp(1700000000123e6) {
				t.Errorf("%s: DateCreated = %d, want 1700000000.123 s", name, got)
			}
			continue
		}
		if !reflect.DeepEqual(rules, want) {
			t.Errorf("%s decodes to\n%+v\nwant\n%+v", name, rules, want)
		}
	}
}

// A list-users file given where rules are wanted is named as such, not
// reported as the unknown field "Users".
func TestDecodeRulesNamesTheWrongKind(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "captured", "list-users.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = accessctl.DecodeRules(data)
	es := policy.Errors(err)
	if len(es) != 1 || !strings.Contains(es[0].Message, "this is aws workmail list-users output, not aws workmail list-access-control-rules output") {
		t.Errorf("got %v", err)
	}
}
