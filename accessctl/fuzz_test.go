package accessctl_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// FuzzDecodeRules: decoding a rules file never panics; what decodes also
// compiles, and encodes back to a file that decodes to the same rules.
func FuzzDecodeRules(f *testing.F) {
	for _, seed := range []string{
		`{"Rules":[]}`,
		`{"Rules":[{"Name":"default","Effect":"ALLOW","Description":"Default WorkMail Rule","DateCreated":0.0,"DateModified":0.0}]}`,
		`{"Rules":[{"Name":"a","Effect":"DENY","IpRanges":["10.0.0.1/8"],"NotIpRanges":["10.1.0.0/16"],"Actions":["IMAP"],"NotActions":["EWS"],"UserIds":["S-1-1-11-1111111111"],"NotUserIds":["S-1-1-11-2222222222"],"ImpersonationRoleIds":["r-1"],"NotImpersonationRoleIds":["r_2"],"DateCreated":"2020-02-13T23:13:48Z","DateModified":1581635628.5}]}`,
		`{"Rules":[{"Name":"a","Effect":"ALLOW","NotIpRange":["0.0.0.0/0"]}]}`,   // typo'd field
		`{"Rules":[{"Name":"a","Effect":"ALLOW","Name":"b"}]}`,                   // duplicate key
		`{"Rules":[{"name":"a","effect":"ALLOW"}]}`,                              // wrong case
		`{"Rules":[{"Name":"a","Effect":"ALLOW"},{"Name":"a","Effect":"DENY"}]}`, // duplicate names
		`{"Rules":[{"Name":"a","Effect":"ALLOW","IpRanges":["010.0.0.0/8","10.0.0.0/33","::ffff:1.2.3.4/104"," 1.2.3.4/32","1.2.3.4"]}]}`,
		`{"Rules":[{"Name":"a","Effect":"ALLOW","Actions":["Imap","imap","IMAP "]}]}`,
		"{\"Rules\":[{\"Name\":\"\xff\",\"Effect\":\"ALLOW\"}]}", // invalid UTF-8
		`{"Rules":[{"Name":"\ud800","Effect":"ALLOW"}]}`,         // lone surrogate
		`{"Rules":[{"Name":"a","Effect":"ALLOW","Description":"\u0100"}]}`,
		`{"Rules":[{"Name":"a","Effect":"allow"}]}`,
		`{"Rules":null}`,
		`{"Rules":[null]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		`{"Rules":[{"Name":"` + strings.Repeat("x", 100000) + `","Effect":"ALLOW"}]}`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := accessctl.DecodeRules(data)
		if err != nil {
			for _, e := range policy.Errors(err) {
				if e.Code == "" {
					t.Fatalf("error without a code: %v", e)
				}
			}
			return
		}
		if _, err := accessctl.Compile(rules, accessctl.Options{}); err != nil {
			t.Fatalf("decoded rules do not compile: %v", err)
		}
		out, err := accessctl.EncodeRules(rules)
		if err != nil {
			t.Fatalf("EncodeRules: %v", err)
		}
		back, err := accessctl.DecodeRules(out)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		sorted := slices.Clone(rules)
		slices.SortFunc(sorted, func(a, b accessctl.Rule) int { return strings.Compare(a.Name, b.Name) })
		if len(back) != len(sorted) {
			t.Fatalf("round trip lost rules")
		}
		for i := range back {
			a, b := normalize(sorted[i]), normalize(back[i])
			if !rulesEqual(a, b) {
				t.Fatalf("round trip changed rule %d:\n%+v\n%+v", i, a, b)
			}
		}
	})
}

// normalize makes empty lists nil: absent and empty lists mean the same (A3, A16).
func normalize(r accessctl.Rule) accessctl.Rule {
	for _, l := range []*[]string{&r.IpRanges, &r.NotIpRanges, &r.Actions, &r.NotActions, &r.UserIds, &r.NotUserIds, &r.ImpersonationRoleIds, &r.NotImpersonationRoleIds} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	return r
}

func rulesEqual(a, b accessctl.Rule) bool {
	return a.Name == b.Name && a.Effect == b.Effect && a.Description == b.Description &&
		slices.Equal(a.IpRanges, b.IpRanges) && slices.Equal(a.NotIpRanges, b.NotIpRanges) &&
		slices.Equal(a.Actions, b.Actions) && slices.Equal(a.NotActions, b.NotActions) &&
		slices.Equal(a.UserIds, b.UserIds) && slices.Equal(a.NotUserIds, b.NotUserIds) &&
		slices.Equal(a.ImpersonationRoleIds, b.ImpersonationRoleIds) &&
		slices.Equal(a.NotImpersonationRoleIds, b.NotImpersonationRoleIds) &&
		a.DateCreated == b.DateCreated && a.DateModified == b.DateModified
}
