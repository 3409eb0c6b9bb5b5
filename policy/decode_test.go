package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Shapes of the WorkMail API (service model workmail-2017-10-01), as a caller of
// DecodeStrict declares them. Members the library does not use are kept raw.

type decTestRule struct {
	Name                    string    `json:"Name"`
	Effect                  Effect    `json:"Effect"`
	Description             string    `json:"Description,omitempty"`
	IpRanges                []string  `json:"IpRanges,omitempty"`
	NotIpRanges             []string  `json:"NotIpRanges,omitempty"`
	Actions                 []string  `json:"Actions,omitempty"`
	NotActions              []string  `json:"NotActions,omitempty"`
	UserIds                 []string  `json:"UserIds,omitempty"`
	NotUserIds              []string  `json:"NotUserIds,omitempty"`
	ImpersonationRoleIds    []string  `json:"ImpersonationRoleIds,omitempty"`
	NotImpersonationRoleIds []string  `json:"NotImpersonationRoleIds,omitempty"`
	DateCreated             Timestamp `json:"DateCreated,omitempty"`
	DateModified            Timestamp `json:"DateModified,omitempty"`
}

type decTestRules struct {
	Rules []decTestRule `json:"Rules"`
}

type decTestUser struct {
	Id                              string          `json:"Id"`
	Email                           string          `json:"Email,omitempty"`
	Name                            string          `json:"Name,omitempty"`
	DisplayName                     string          `json:"DisplayName,omitempty"`
	State                           string          `json:"State,omitempty"`
	UserRole                        json.RawMessage `json:"UserRole,omitempty"`
	EnabledDate                     json.RawMessage `json:"EnabledDate,omitempty"`
	DisabledDate                    json.RawMessage `json:"DisabledDate,omitempty"`
	IdentityProviderUserId          json.RawMessage `json:"IdentityProviderUserId,omitempty"`
	IdentityProviderIdentityStoreId json.RawMessage `json:"IdentityProviderIdentityStoreId,omitempty"`
}

type decTestUsers struct {
	Users     []decTestUser `json:"Users"`
	NextToken string        `json:"NextToken,omitempty"`
}

type decTestOrgSummary struct {
	OrganizationId    string `json:"OrganizationId"`
	Alias             string `json:"Alias,omitempty"`
	DefaultMailDomain string `json:"DefaultMailDomain,omitempty"`
	ErrorMessage      string `json:"ErrorMessage,omitempty"`
	State             string `json:"State,omitempty"`
}

type decTestOrgs struct {
	OrganizationSummaries []decTestOrgSummary `json:"OrganizationSummaries"`
	NextToken             string              `json:"NextToken,omitempty"`
}

type decTestEffectRequest struct {
	OrganizationId      string `json:"OrganizationId,omitempty"`
	IpAddress           string `json:"IpAddress"`
	Action              string `json:"Action"`
	UserId              string `json:"UserId,omitempty"`
	ImpersonationRoleId string `json:"ImpersonationRoleId,omitempty"`
}

type decTestEffectResponse struct {
	Effect       Effect   `json:"Effect"`
	MatchedRules []string `json:"MatchedRules"`
}

// decTestName is a string kind with its own name, as map key and value.
type decTestName string

// decTestKinds has a field of every supported kind. Unmarshalers are behind
// pointers, where DecodeStrict and encoding/json agree also on null.
type decTestKinds struct {
	S       string
	B       bool
	I       int
	I8      int8
	I16     int16
	I32     int32
	I64     int64
	U       uint
	U8      uint8
	U16     uint16
	U32     uint32
	U64     uint64
	Uptr    uintptr
	F32     float32
	F64     float64
	N       json.Number
	Raw     *json.RawMessage
	A       any
	M       map[string]int
	MN      map[decTestName]decTestName
	P       *string
	PP      **int
	Bytes   []byte
	SS      []string
	Nested  *decTestKinds
	E       *Effect
	T       *Timestamp
	Addr    *netip.Addr
	Named   decTestName
	Tags    []struct{ Key, Value string }
	Skip    string `json:"-"`
	Renamed string `json:"renamed_field,omitempty"`
	//lint:ignore SA5008 the "-," tag (a field named "-") is tested on purpose
	Dash string `json:"-,"`
	//lint:ignore U1000 an unexported field is tested on purpose: it must be skipped
	hidden int
	decTestEmbedded
	*DecTestEmbeddedPtr
}

type decTestEmbedded struct {
	Promoted string
	S        string // hidden by the shallower decTestKinds.S
}

// DecTestEmbeddedPtr is exported so that an embedded pointer to it can be allocated.
type DecTestEmbeddedPtr struct {
	ViaPtr int
}

// decErrList asserts that err is an ErrorList of ValidationException errors and returns it.
func decErrList(t *testing.T, err error) ErrorList {
	t.Helper()
	if err == nil {
		t.Fatal("DecodeStrict succeeded, want an error")
	}
	var l ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("error %T %v is not an ErrorList", err, err)
	}
	if len(l) == 0 {
		t.Fatal("empty ErrorList")
	}
	return l
}

// decWant is one expected error: its path and its message (exact, or a
// substring when the message starts with "~").
type decWant struct{ path, msg string }

func decCheckErrs(t *testing.T, err error, want ...decWant) {
	t.Helper()
	l := decErrList(t, err)
	if len(l) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(l), len(want), err)
	}
	for i, w := range want {
		e := l[i]
		if e.Code != ValidationException {
			t.Errorf("error %d: code %s, want ValidationException", i, e.Code)
		}
		if !errors.Is(e, ErrValidation) {
			t.Errorf("error %d: errors.Is(ErrValidation) is false", i)
		}
		if e.Path != w.path {
			t.Errorf("error %d: path %q, want %q (%v)", i, e.Path, w.path, e)
		}
		if sub, ok := strings.CutPrefix(w.msg, "~"); ok {
			if !strings.Contains(e.Message, sub) {
				t.Errorf("error %d: message %q does not contain %q", i, e.Message, sub)
			}
		} else if e.Message != w.msg {
			t.Errorf("error %d: message %q, want %q", i, e.Message, w.msg)
		}
	}
}

func decReadExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "aws-cli", "documented", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SEMANTICS D2, D3: the AWS CLI's own outputs load as they are.
func TestDecodeStrict_AWSCLIExamples(t *testing.T) {
	t.Run("list-access-control-rules", func(t *testing.T) {
		var got decTestRules
		if err := DecodeStrict(decReadExample(t, "list-access-control-rules.json"), &got); err != nil {
			t.Fatal(err)
		}
		want := decTestRules{Rules: []decTestRule{
			{Name: "default", Effect: Allow, Description: "Default WorkMail Rule"},
			{Name: "myRule", Effect: Deny, Description: "my rule",
				UserIds:     []string{"S-1-1-11-1111111111-2222222222-3333333333-3333"},
				DateCreated: 1581635628 * 1e9, DateModified: 1581635628 * 1e9},
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	})
	t.Run("list-users", func(t *testing.T) {
		var got decTestUsers
		if err := DecodeStrict(decReadExample(t, "list-users.json"), &got); err != nil {
			t.Fatal(err)
		}
		want := decTestUsers{Users: []decTestUser{
			{Id: "S-1-1-11-1111111111-2222222222-3333333333-3333", Email: "exampleUser1@site.awsapps.com",
				Name: "exampleUser1", State: "ENABLED", UserRole: json.RawMessage(`"USER"`),
				EnabledDate: json.RawMessage(`1532459261.827`)},
			{Id: "S-1-1-11-1122222222-2222233333-3333334444-4444", Name: "exampleGuestUser",
				State: "DISABLED", UserRole: json.RawMessage(`"SYSTEM_USER"`)},
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	})
	t.Run("list-organizations", func(t *testing.T) {
		var got decTestOrgs
		if err := DecodeStrict(decReadExample(t, "list-organizations.json"), &got); err != nil {
			t.Fatal(err)
		}
		want := decTestOrgs{OrganizationSummaries: []decTestOrgSummary{
			{OrganizationId: "m-d281d0a2fd824be5b6cd3d3ce909fd27", Alias: "exampleAlias", State: "Active"}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	})
	t.Run("get-access-control-effect", func(t *testing.T) {
		var req decTestEffectRequest
		if err := DecodeStrict(decReadExample(t, "get-access-control-effect.request.json"), &req); err != nil {
			t.Fatal(err)
		}
		wantReq := decTestEffectRequest{IpAddress: "192.0.2.0", Action: "WindowsOutlook",
			UserId: "S-1-1-11-1111111111-2222222222-3333333333-3333"}
		if req != wantReq {
			t.Errorf("request: got %+v, want %+v", req, wantReq)
		}
		var resp decTestEffectResponse
		if err := DecodeStrict(decReadExample(t, "get-access-control-effect.response.json"), &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Effect != Deny || !reflect.DeepEqual(resp.MatchedRules, []string{"myRule"}) {
			t.Errorf("response: got %+v", resp)
		}
	})
}

// SEMANTICS D2: an unknown field is an error naming its place; a typo'd
// NotIpRange must not widen a rule.
func TestSemanticsD2_UnknownField(t *testing.T) {
	in := `{"Rules":[
		{"Name":"a","Effect":"ALLOW"},
		{"Name":"b","Effect":"ALLOW"},
		{"Name":"c","Effect":"ALLOW"},
		{"Name":"d","Effect":"DENY","NotIpRange":["10.0.0.0/8"],"Extra":{"x":[1,2]},"IpRanges":["0.0.0.0/0"]}
	]}`
	var got decTestRules
	err := DecodeStrict([]byte(in), &got)
	decCheckErrs(t, err,
		decWant{"Rules[3].NotIpRange", `unknown field "NotIpRange" (did you mean "NotIpRanges"?)`},
		decWant{"Rules[3].Extra", `unknown field "Extra"`},
	)
	if got.Rules != nil {
		t.Errorf("target changed: %+v", got)
	}
	// Top level, and the error text as a whole.
	err = DecodeStrict([]byte(`{"Rule":[]}`), &got)
	decCheckErrs(t, err, decWant{"Rule", `unknown field "Rule" (did you mean "Rules"?)`})
	if s := err.Error(); s != `ValidationException: Rule: unknown field "Rule" (did you mean "Rules"?)` {
		t.Errorf("Error() = %q", s)
	}
	// A key that is not an identifier is quoted in the path.
	err = DecodeStrict([]byte(`{"Rules":[{"Not IpRanges":[],"Zone 1":2}]}`), &got)
	decCheckErrs(t, err,
		decWant{`Rules[0]["Not IpRanges"]`, `unknown field "Not IpRanges" (did you mean "NotIpRanges"?)`},
		decWant{`Rules[0]["Zone 1"]`, `unknown field "Zone 1"`})
	// Short names get no far-fetched hint.
	err = DecodeStrict([]byte(`[{"Q":"1","Idd":"2"}]`), new([]decTestUser))
	decCheckErrs(t, err, decWant{`[0].Q`, `unknown field "Q"`}, decWant{`[0].Idd`, `unknown field "Idd" (did you mean "Id"?)`})
}

// SEMANTICS D2: a duplicated key is an error at the second occurrence, in
// structs, maps and generic objects alike.
func TestSemanticsD2_DuplicateKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		into func() any
		want []decWant
	}{
		{"struct", `{"Rules":[{"Name":"a","Effect":"ALLOW","Name":"b"}]}`, func() any { return new(decTestRules) },
			[]decWant{{"Rules[0].Name", `duplicate key "Name"`}}},
		{"top level", `{"Rules":[],"Rules":[{"Name":"x"}]}`, func() any { return new(decTestRules) },
			[]decWant{{"Rules", `duplicate key "Rules"`}}},
		{"escaped spelling", `{"Rules":[],"\u0052ules":[]}`, func() any { return new(decTestRules) },
			[]decWant{{"Rules", `duplicate key "Rules"`}}},
		{"null then value", `{"Rules":null,"Rules":[]}`, func() any { return new(decTestRules) },
			[]decWant{{"Rules", `duplicate key "Rules"`}}},
		{"map", `{"a":1,"b":2,"a":3}`, func() any { return new(map[string]int) },
			[]decWant{{"a", `duplicate key "a"`}}},
		{"map of named keys", `{"M":{"k":1},"MN":{"x y":"1","x y":"2"}}`, func() any { return new(decTestKinds) },
			[]decWant{{`MN["x y"]`, `duplicate key "x y"`}}},
		{"any", `{"A":{"x":{"y":1,"y":2}}}`, func() any { return new(decTestKinds) },
			[]decWant{{"A.x.y", `duplicate key "y"`}}},
		{"every duplicate", `{"Rules":[{"Name":"a","Name":"b","Name":"c"}]}`, func() any { return new(decTestRules) },
			[]decWant{{"Rules[0].Name", `duplicate key "Name"`}, {"Rules[0].Name", `duplicate key "Name"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			decCheckErrs(t, DecodeStrict([]byte(tc.in), tc.into()), tc.want...)
		})
	}
	// A struct with more than 64 fields tracks duplicates too.
	type wide struct {
		F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13, F14, F15, F16, F17, F18, F19,
		F20, F21, F22, F23, F24, F25, F26, F27, F28, F29, F30, F31, F32, F33, F34, F35, F36, F37, F38, F39,
		F40, F41, F42, F43, F44, F45, F46, F47, F48, F49, F50, F51, F52, F53, F54, F55, F56, F57, F58, F59,
		F60, F61, F62, F63, F64, F65, F66, F67, F68, F69 int
	}
	decCheckErrs(t, DecodeStrict([]byte(`{"F69":1,"F0":2,"F69":3}`), new(wide)),
		decWant{"F69", `duplicate key "F69"`})
	var w wide
	if err := DecodeStrict([]byte(`{"F69":1,"F0":2,"F63":3,"F64":4}`), &w); err != nil || w.F69 != 1 || w.F64 != 4 {
		t.Errorf("wide: %v %+v", err, w)
	}
}

// SEMANTICS D2: a key in the wrong case is an error with a hint, never matched
// case-insensitively as encoding/json does.
func TestSemanticsD2_WrongCaseKey(t *testing.T) {
	in := `{"Users":[{"Id":"u1","Email":"a@example.com"},{"Id":"u2","email":"b@example.com","NAME":"b"}]}`
	var got decTestUsers
	decCheckErrs(t, DecodeStrict([]byte(in), &got),
		decWant{"Users[1].email", `unknown field "email" (did you mean "Email"?)`},
		decWant{"Users[1].NAME", `unknown field "NAME" (did you mean "Name"?)`},
	)
	// What encoding/json would have done instead.
	var loose decTestUsers
	if err := json.Unmarshal([]byte(in), &loose); err != nil || loose.Users[1].Email != "b@example.com" {
		t.Fatalf("encoding/json changed: %v %+v", err, loose)
	}
	decCheckErrs(t, DecodeStrict([]byte(`{"rules":[{"notIpRanges":[]}]}`), new(decTestRules)),
		decWant{"rules", `unknown field "rules" (did you mean "Rules"?)`})
	decCheckErrs(t, DecodeStrict([]byte(`{"Rules":[{"notiprange":[]}]}`), new(decTestRules)),
		decWant{"Rules[0].notiprange", `unknown field "notiprange" (did you mean "NotIpRanges"?)`})
}

// SEMANTICS D2: members the model defines but the library does not use are
// accepted and ignored (kept raw), whatever their JSON kind.
func TestSemanticsD2_ModelMembersIgnored(t *testing.T) {
	in := `{"Users":[{"Id":"u","UserRole":"USER","EnabledDate":1532459261.827,
		"DisabledDate":"2018-07-24T19:07:41Z","IdentityProviderUserId":{"nested":[1,true,null]},
		"IdentityProviderIdentityStoreId": [ "a" , "b" ] }],"NextToken":"t"}`
	var got decTestUsers
	if err := DecodeStrict([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	u := got.Users[0]
	for _, c := range []struct {
		name string
		got  json.RawMessage
		want string
	}{
		{"UserRole", u.UserRole, `"USER"`},
		{"EnabledDate", u.EnabledDate, `1532459261.827`},
		{"DisabledDate", u.DisabledDate, `"2018-07-24T19:07:41Z"`},
		{"IdentityProviderUserId", u.IdentityProviderUserId, `{"nested":[1,true,null]}`},
		{"IdentityProviderIdentityStoreId", u.IdentityProviderIdentityStoreId, `[ "a" , "b" ]`},
	} {
		if string(c.got) != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	// The raw bytes are a copy, not a view of the input.
	data := []byte(`{"Id":"u","UserRole":"USER"}`)
	var one decTestUser
	if err := DecodeStrict(data, &one); err != nil {
		t.Fatal(err)
	}
	copy(data, bytes.Repeat([]byte("x"), len(data)))
	if string(one.UserRole) != `"USER"` {
		t.Errorf("UserRole aliases the input: %s", one.UserRole)
	}
	// Kept raw does not mean unchecked: the value must still be valid JSON and UTF-8.
	decCheckErrs(t, DecodeStrict([]byte("{\"Users\":[{\"Id\":\"u\",\"UserRole\":\"\xff\"}]}"), new(decTestUsers)),
		decWant{"Users[0].UserRole", "invalid UTF-8 in string at offset 32"})
	decCheckErrs(t, DecodeStrict([]byte(`{"Id":"u","UserRole":{"a":[1,}}`), new(decTestUser)),
		decWant{"UserRole.a[1]", "invalid JSON at offset 29: unexpected character '}'"})
}

// SEMANTICS D2: timestamps are epoch seconds (numbers, fractions allowed) or
// RFC 3339 strings.
func TestSemanticsD2_Timestamps(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Timestamp
	}{
		{`0.0`, 0},
		{`0`, 0},
		{`1581635628.0`, 1581635628 * 1e9},
		{`1581635628`, 1581635628 * 1e9},
		{`1532459261.827`, 1532459261*1e9 + 827e6},
		{`1.5e9`, 15e17},
		{`"2020-02-13T23:13:48Z"`, 1581635628 * 1e9},
		{`"2018-07-24T21:07:41.827+02:00"`, 1532459261*1e9 + 827e6},
		{`null`, 0},
	} {
		var r decTestRule
		in := `{"Name":"n","Effect":"ALLOW","DateCreated":` + tc.in + `}`
		if err := DecodeStrict([]byte(in), &r); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if r.DateCreated != tc.want {
			t.Errorf("%s: got %d, want %d", tc.in, r.DateCreated, tc.want)
		}
	}
	for _, in := range []string{`"yesterday"`, `"1581635628"`, `true`, `[]`, `{}`, `1e400`} {
		decCheckErrs(t, DecodeStrict([]byte(`{"Rules":[{"DateModified":`+in+`}]}`), new(decTestRules)),
			decWant{"Rules[0].DateModified", "~invalid timestamp"})
	}
}

// SEMANTICS A13: invalid UTF-8 anywhere is a ValidationException naming the
// string that holds it, as are escapes of unpaired UTF-16 surrogates (which
// encoding/json silently turns into U+FFFD).
func TestSemanticsA13_InvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []decWant
	}{
		{"value", "{\"Rules\":[{\"Name\":\"a\xffb\"}]}", []decWant{{"Rules[0].Name", "invalid UTF-8 in string at offset 20"}}},
		{"list item", "{\"Rules\":[{\"IpRanges\":[\"1.2.3.4/32\",\"\xc0\x80\"]}]}", []decWant{{"Rules[0].IpRanges[1]", "~invalid UTF-8 in string"}}},
		{"encoded surrogate", "{\"Rules\":[{\"Name\":\"\xed\xa0\x80\"}]}", []decWant{{"Rules[0].Name", "~invalid UTF-8"}}},
		{"truncated sequence", "{\"Rules\":[{\"Name\":\"\xe2\x82\"}]}", []decWant{{"Rules[0].Name", "~invalid UTF-8"}}},
		{"key", "{\"Rules\":[{\"Na\xffme\":\"a\"}]}", []decWant{{"Rules[0]", "invalid UTF-8 in object key at offset 14"}}},
		{"in unknown field", "{\"Rules\":[{\"Bogus\":[\"\xff\"]}]}", []decWant{
			{"Rules[0].Bogus", `unknown field "Bogus"`}, {"Rules[0].Bogus[0]", "~invalid UTF-8"}}},
		{"lone high surrogate", `{"Rules":[{"Name":"\ud800"}]}`, []decWant{{"Rules[0].Name", `unpaired UTF-16 surrogate escape \ud800 in string at offset 19`}}},
		{"lone low surrogate", `{"Rules":[{"Name":"\udc00x"}]}`, []decWant{{"Rules[0].Name", `~unpaired UTF-16 surrogate escape \udc00`}}},
		{"high then non-surrogate", `{"Rules":[{"Name":"\ud83d\u0041"}]}`, []decWant{{"Rules[0].Name", `~\ud83d`}}},
		{"reversed pair", `{"Rules":[{"Name":"\ude00\ud83d"}]}`, []decWant{{"Rules[0].Name", `~\ude00`}}},
		{"surrogate in key", `{"Rules":[{"\ud800":1}]}`, []decWant{{"Rules[0]", `~in object key`}}},
		{"outside strings", "{\"Rules\":[\xff]}", []decWant{{"Rules[0]", "invalid JSON at offset 10: invalid UTF-8 byte 0xff"}}},
		{"every string", "{\"Rules\":[{\"Name\":\"\xff\",\"Description\":\"\xfe\"},{\"UserIds\":[\"\xc3\"]}]}", []decWant{
			{"Rules[0].Name", "~invalid UTF-8"}, {"Rules[0].Description", "~invalid UTF-8"}, {"Rules[1].UserIds[0]", "~invalid UTF-8"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got decTestRules
			decCheckErrs(t, DecodeStrict([]byte(tc.in), &got), tc.want...)
			// encoding/json accepts each of these (except bytes outside strings).
			if tc.name != "outside strings" {
				if err := json.Unmarshal([]byte(tc.in), new(any)); err != nil {
					t.Errorf("encoding/json rejects it too: %v", err)
				}
			}
		})
	}
	// Valid escapes, pairs and multi-byte characters are fine.
	var r decTestRule
	in := `{"Name":"\ud83d\ude00 \u00e9 é 😀 \u20ac \"\\\/\b\f\n\r\t"}`
	if err := DecodeStrict([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if want := "😀 é é 😀 € \"\\/\b\f\n\r\t"; r.Name != want {
		t.Errorf("got %q, want %q", r.Name, want)
	}
}

// SEMANTICS D1, D2: a failed call changes nothing.
func TestDecodeStrict_NoPartialState(t *testing.T) {
	mk := func() decTestRules {
		return decTestRules{Rules: []decTestRule{{Name: "keep", Effect: Deny, IpRanges: []string{"10.0.0.0/8"}}}}
	}
	for _, in := range []string{
		`{"Rules":[{"Name":"new","Effect":"ALLOW"},{"Name":"x","Bogus":1}]}`, // semantic error late
		`{"Rules":[{"Name":"new","Effect":"ALLOW"}]`,                         // truncated
		`{"Rules":[{"Name":"new","Effect":"ALLOW"}]} x`,                      // trailing data
		`{"Rules":[{"Name":"new","Effect":"MAYBE"}]}`,                        // Unmarshaler error
		"{\"Rules\":[{\"Name\":\"new\xff\"}]}",                               // invalid UTF-8
		`{"Rules":[{"Name":"new","IpRanges":"10.0.0.0/8"}]}`,                 // wrong type
		``,
	} {
		got := mk()
		if err := DecodeStrict([]byte(in), &got); err == nil {
			t.Errorf("%q: no error", in)
		}
		if !reflect.DeepEqual(got, mk()) {
			t.Errorf("%q: target changed to %+v", in, got)
		}
	}
	// On success the target is replaced as a whole: members absent from the
	// input are zero, not left over from before.
	got := mk()
	if err := DecodeStrict([]byte(`{"Rules":[{"Name":"new"}]}`), &got); err != nil {
		t.Fatal(err)
	}
	if want := (decTestRules{Rules: []decTestRule{{Name: "new"}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// DecodeStrict reports every problem of one input in one pass, in input order.
func TestDecodeStrict_AllErrors(t *testing.T) {
	in := `{"Rules":[
		{"Name":"a","Effect":"ALOW","IpRanges":"1.2.3.4"},
		{"name":"b","Name":"b","Name":"c","Actions":[1,"EWS",{}],"DateCreated":"soon"},
		{"Description":42,"UserIds":[null,"x"]}
	],"Extra":true}`
	decCheckErrs(t, DecodeStrict([]byte(in), new(decTestRules)),
		decWant{"Rules[0].Effect", `invalid effect "ALOW": must be ALLOW or DENY`},
		decWant{"Rules[0].IpRanges", "want array, got string"},
		decWant{"Rules[1].name", `unknown field "name" (did you mean "Name"?)`},
		decWant{"Rules[1].Name", `duplicate key "Name"`},
		decWant{"Rules[1].Actions[0]", "want string, got number"},
		decWant{"Rules[1].Actions[2]", "want string, got object"},
		decWant{"Rules[1].DateCreated", `~invalid timestamp "soon"`},
		decWant{"Rules[2].Description", "want string, got number"},
		decWant{"Extra", `unknown field "Extra"`},
	)
}

func TestDecodeStrict_TypeMismatch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want decWant
	}{
		{`{"S":1}`, decWant{"S", "want string, got number"}},
		{`{"S":true}`, decWant{"S", "want string, got boolean"}},
		{`{"B":"true"}`, decWant{"B", "want boolean, got string"}},
		{`{"B":0}`, decWant{"B", "want boolean, got number"}},
		{`{"I":"1"}`, decWant{"I", "want integer, got string"}},
		{`{"I":1.5}`, decWant{"I", "want integer, got number 1.5"}},
		{`{"I":1.0}`, decWant{"I", "want integer, got number 1.0"}},
		{`{"I":1e2}`, decWant{"I", "want integer, got number 1e2"}},
		{`{"I8":128}`, decWant{"I8", "number 128 out of range for int8"}},
		{`{"I8":-129}`, decWant{"I8", "number -129 out of range for int8"}},
		{`{"U8":256}`, decWant{"U8", "number 256 out of range for uint8"}},
		{`{"U":-1}`, decWant{"U", "number -1 out of range for uint"}},
		{`{"I64":9223372036854775808}`, decWant{"I64", "number 9223372036854775808 out of range for int64"}},
		{`{"F32":1e39}`, decWant{"F32", "number 1e39 out of range for float32"}},
		{`{"F64":1e400}`, decWant{"F64", "number 1e400 out of range for float64"}},
		{`{"A":[1e400]}`, decWant{"A[0]", "number 1e400 out of range for float64"}},
		{`{"F64":"1"}`, decWant{"F64", "want number, got string"}},
		{`{"N":"x"}`, decWant{"N", `invalid number "x"`}},
		{`{"N":true}`, decWant{"N", "want number, got boolean"}},
		{`{"SS":{}}`, decWant{"SS", "want array, got object"}},
		{`{"SS":["a",["b"]]}`, decWant{"SS[1]", "want string, got array"}},
		{`{"M":[]}`, decWant{"M", "want object, got array"}},
		{`{"M":{"a":"1"}}`, decWant{"M.a", "want integer, got string"}},
		{`{"Nested":[]}`, decWant{"Nested", "want object, got array"}},
		{`{"Nested":{"Nested":{"S":2}}}`, decWant{"Nested.Nested.S", "want string, got number"}},
		{`{"P":5}`, decWant{"P", "want string, got number"}},
		{`{"PP":"5"}`, decWant{"PP", "want integer, got string"}},
		{`{"Bytes":"!!"}`, decWant{"Bytes", "invalid base64 string"}},
		{`{"Bytes":{}}`, decWant{"Bytes", "want array or base64 string, got object"}},
		{`{"Tags":[{"Key":"k","Value":1}]}`, decWant{"Tags[0].Value", "want string, got number"}},
		{`{"E":"allow"}`, decWant{"E", `invalid effect "allow": must be ALLOW or DENY (did you mean ALLOW?)`}},
		{`{"E":1}`, decWant{"E", `effect must be a string, ALLOW or DENY`}},
		{`{"Addr":"1.2.3"}`, decWant{"Addr", `~ParseAddr("1.2.3")`}},
		{`{"Addr":1}`, decWant{"Addr", "want string, got number"}},
		{`{"Promoted":1}`, decWant{"Promoted", "want string, got number"}},
		{`{"ViaPtr":"1"}`, decWant{"ViaPtr", "want integer, got string"}},
		{`{"MN":{"k":1}}`, decWant{"MN.k", "want string, got number"}},
	} {
		decCheckErrs(t, DecodeStrict([]byte(tc.in), new(decTestKinds)), tc.want)
	}
}

func TestDecodeStrict_Kinds(t *testing.T) {
	in := `{"S":"s","B":true,"I":-1,"I8":-128,"I16":32767,"I32":-5,"I64":-9223372036854775808,
		"U":1,"U8":255,"U16":65535,"U32":7,"U64":18446744073709551615,"Uptr":9,
		"F32":1.5,"F64":-0,"N":12.5e3,"Raw":[1, 2],"A":{"x":[1,"a",true,null,{}]},
		"M":{"a":1,"":2},"MN":{"k":"v"},"P":"p","PP":3,"Bytes":"aGk=","SS":[],"Nested":{"S":"inner","Nested":null},
		"E":"DENY","T":"2020-02-13T23:13:48Z","Addr":"192.0.2.1","Named":"n","Tags":[{"Key":"k","Value":"v"}],
		"renamed_field":"r","-":"dash","Promoted":"pr","ViaPtr":4}`
	var got decTestKinds
	if err := DecodeStrict([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	var want decTestKinds
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got.U64 != math.MaxUint64 || got.I8 != -128 || got.Promoted != "pr" || got.DecTestEmbeddedPtr.ViaPtr != 4 ||
		**got.PP != 3 || string(got.Bytes) != "hi" || *got.E != Deny || got.Dash != "dash" || got.SS == nil {
		t.Errorf("unexpected values: %+v", got)
	}
	// Fields that are not members: json:"-", unexported, and the hidden embedded S.
	for _, key := range []string{"Skip", "hidden", "decTestEmbedded", "DecTestEmbeddedPtr"} {
		decCheckErrs(t, DecodeStrict([]byte(`{"`+key+`":1}`), new(decTestKinds)), decWant{key, "~unknown field"})
	}
	// []byte also decodes from an array of numbers, as in encoding/json.
	var b []byte
	if err := DecodeStrict([]byte(`[104,105]`), &b); err != nil || string(b) != "hi" {
		t.Errorf("[]byte from array: %v %q", err, b)
	}
}

// SEMANTICS D2: null is the same as absent; it leaves the zero value.
func TestDecodeStrict_Null(t *testing.T) {
	in := `{"Name":null,"Effect":null,"Description":null,"IpRanges":null,"DateCreated":null}`
	var r decTestRule
	if err := DecodeStrict([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, decTestRule{}) {
		t.Errorf("got %+v", r)
	}
	// Unlike encoding/json, which calls UnmarshalJSON("null") (an error for Effect
	// and Timestamp) and keeps json.RawMessage("null").
	if err := json.Unmarshal([]byte(in), new(decTestRule)); err == nil {
		t.Error("encoding/json now accepts a null Effect")
	}
	var u decTestUser
	if err := DecodeStrict([]byte(`{"Id":"u","UserRole":null}`), &u); err != nil || u.UserRole != nil {
		t.Errorf("null RawMessage: %v %q", err, u.UserRole)
	}
	var raws map[string]json.RawMessage
	if err := DecodeStrict([]byte(`{"a":null}`), &raws); err != nil || raws["a"] != nil || len(raws) != 1 {
		t.Errorf("null RawMessage map value: %v %q", err, raws)
	}
	// In arrays, null elements are zero values, as in encoding/json.
	var ss []string
	if err := DecodeStrict([]byte(`["a",null]`), &ss); err != nil || !reflect.DeepEqual(ss, []string{"a", ""}) {
		t.Errorf("[]string: %v %q", err, ss)
	}
	// A top-level null gives the zero value.
	rules := decTestRules{Rules: []decTestRule{{Name: "x"}}}
	if err := DecodeStrict([]byte(` null `), &rules); err != nil || rules.Rules != nil {
		t.Errorf("top-level null: %v %+v", err, rules)
	}
}

func TestDecodeStrict_SyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want decWant
	}{
		{``, decWant{"", "invalid JSON at offset 0: empty input"}},
		{`   `, decWant{"", "invalid JSON at offset 3: unexpected end of input"}},
		{`{`, decWant{"", "invalid JSON at offset 1: unexpected end of input"}},
		{`{"Rules":[{"Name":"a"`, decWant{"Rules[0]", "invalid JSON at offset 21: unexpected end of input"}},
		{`{"Rules":[{"Name":"a`, decWant{"Rules[0].Name", "invalid JSON at offset 20: unexpected end of input in string"}},
		{`{"Rules":[{"Name":"a",}]}`, decWant{"Rules[0]", `invalid JSON at offset 22: want string for object key, got '}'`}},
		{`{"Rules":[{"Name":"a"},]}`, decWant{"Rules[1]", `invalid JSON at offset 23: unexpected character ']'`}},
		{`{"Rules":[{"Name" "a"}]}`, decWant{"Rules[0]", `invalid JSON at offset 18: want ':' after object key, got '"'`}},
		{`{"Rules":[{"Name":"a" "b"}]}`, decWant{"Rules[0]", `invalid JSON at offset 22: want ',' or '}' after object member, got '"'`}},
		{`{"Rules":[{} {}]}`, decWant{"Rules", `invalid JSON at offset 13: want ',' or ']' after array element, got '{'`}},
		{`{"Rules":[]} {}`, decWant{"", "invalid JSON at offset 13: unexpected data after the top-level value"}},
		{`{"Rules":[]}]`, decWant{"", "invalid JSON at offset 12: unexpected data after the top-level value"}},
		{`{'Rules':[]}`, decWant{"", `invalid JSON at offset 1: want string for object key, got '\''`}},
		{`{Rules:[]}`, decWant{"", `invalid JSON at offset 1: want string for object key, got 'R'`}},
		{"\xef\xbb\xbf{}", decWant{"", "invalid JSON at offset 0: unexpected byte order mark (U+FEFF)"}},
		{"{\"Rules\":[{\"Name\":\"a\x00\"}]}", decWant{"Rules[0].Name", "invalid JSON at offset 20: control character U+0000 in string (must be escaped)"}},
		{"{\"Rules\":[{\"Name\":\"a\nb\"}]}", decWant{"Rules[0].Name", "~control character U+000A"}},
		{"{\x00}", decWant{"", `invalid JSON at offset 1: want string for object key, got '\x00'`}},
		{`{"Rules":[{"Name":"\x"}]}`, decWant{"Rules[0].Name", `invalid JSON at offset 19: invalid escape "\\x" in string`}},
		{`{"Rules":[{"Name":"\u12"}]}`, decWant{"Rules[0].Name", `invalid JSON at offset 19: invalid \u escape in string`}},
		{`{"Rules":[{"Name":"\`, decWant{"Rules[0].Name", `~unexpected end of input in string`}},
		{`{"Rules":tru}`, decWant{"Rules", `invalid JSON at offset 12: unexpected character '}'`}},
		{`{"Rules":nul`, decWant{"Rules", `invalid JSON at offset 12: unexpected end of input`}},
		{`{"Rules":NaN}`, decWant{"Rules", `invalid JSON at offset 9: unexpected character 'N'`}},
		{`{"I":01}`, decWant{"", `invalid JSON at offset 6: want ',' or '}' after object member, got '1'`}},
		{`{"I":-}`, decWant{"I", `invalid JSON at offset 6: unexpected character '}'`}},
		{`{"I":1.}`, decWant{"I", `invalid JSON at offset 7: unexpected character '}'`}},
		{`{"I":1e}`, decWant{"I", `invalid JSON at offset 7: unexpected character '}'`}},
		{`{"I":1e+}`, decWant{"I", `invalid JSON at offset 8: unexpected character '}'`}},
		{`{"I":+1}`, decWant{"I", `invalid JSON at offset 5: unexpected character '+'`}},
		{`{"I":.5}`, decWant{"I", `invalid JSON at offset 5: unexpected character '.'`}},
		{`{"I":Infinity}`, decWant{"I", `invalid JSON at offset 5: unexpected character 'I'`}},
		{`{"S":tru}`, decWant{"S", `invalid JSON at offset 8: unexpected character '}'`}},
		{`{"S":"a"/*c*/}`, decWant{"", `~got '/'`}},
	} {
		var err error
		if strings.Contains(tc.in, "Rules") {
			err = DecodeStrict([]byte(tc.in), new(decTestRules))
		} else {
			err = DecodeStrict([]byte(tc.in), new(decTestKinds))
		}
		t.Run(strconv.Quote(tc.in), func(t *testing.T) { decCheckErrs(t, err, tc.want) })
		if json.Valid([]byte(tc.in)) {
			t.Errorf("%q: encoding/json thinks this is valid", tc.in)
		}
	}
	// Errors before a syntax error are kept; nothing after it is reported.
	decCheckErrs(t, DecodeStrict([]byte(`{"X":1,"Rules":[{"Y":2}],,"Z":3}`), new(decTestRules)),
		decWant{"X", `unknown field "X"`}, decWant{"Rules[0].Y", `unknown field "Y"`},
		decWant{"", "~offset 25"})
}

func TestDecodeStrict_Paths(t *testing.T) {
	type inner struct {
		V int `json:"V"`
	}
	for _, tc := range []struct {
		in   string
		into any
		want string
	}{
		{`[{"V":1},{"V":"x"}]`, new([]inner), "[1].V"},
		{`[[1],[2,"x"]]`, new([][]int), "[1][1]"},
		{`{"a":{"V":"x"}}`, new(map[string]inner), "a.V"},
		{`{"m-0123abc":{"V":"x"}}`, new(map[string]inner), "m-0123abc.V"},
		{`{"a.b":{"V":"x"}}`, new(map[string]inner), `["a.b"].V`},
		{`{"0":{"V":"x"}}`, new(map[string]inner), `["0"].V`},
		{`{"":{"V":"x"}}`, new(map[string]inner), `[""].V`},
		{`{"é":{"V":"x"}}`, new(map[string]inner), `["é"].V`},
		{`{"x":{"a b":[{"V":"x"}]}}`, new(map[string]map[string][]inner), `x["a b"][0].V`},
		{`{"x":{"V":1,"W\n":2}}`, new(map[string]inner), `x["W\n"]`},
		{`"x"`, new(int), ""},
	} {
		l := decErrList(t, DecodeStrict([]byte(tc.in), tc.into))
		if len(l) != 1 || l[0].Path != tc.want {
			t.Errorf("%s: got %v, want path %q", tc.in, l, tc.want)
		}
	}
	// Long keys are shortened in paths and messages.
	long := strings.Repeat("k", 1000)
	l := decErrList(t, DecodeStrict([]byte(`{"`+long+`":1}`), new(decTestRules)))
	if len(l[0].Path) > 200 || len(l[0].Message) > 200 {
		t.Errorf("long key not shortened: %d %d", len(l[0].Path), len(l[0].Message))
	}
}

// decTestUnmarshaler returns the error it is told to in its JSON string.
type decTestUnmarshaler struct{ got string }

func (u *decTestUnmarshaler) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case `"error"`:
		return &Error{Code: InvalidParameterException, Message: "bad value", Path: "Inner"}
	case `"list"`:
		return ErrorList{{Code: ValidationException, Message: "first"}, {Code: LimitExceededException, Message: "second", Path: "[2]"}}
	case `"plain"`:
		return errors.New("plain error")
	case `"wrapped"`:
		return fmt.Errorf("wrapped: %w", &Error{Code: EntityNotFoundException, Message: "gone"})
	case `"nilerr"`:
		var e *Error
		return e
	case `"emptylist"`:
		return ErrorList{}
	default:
		u.got = s
		return nil
	}
}

func TestDecodeStrict_Unmarshaler(t *testing.T) {
	type outer struct {
		U  decTestUnmarshaler
		UP *decTestUnmarshaler
		US []decTestUnmarshaler
	}
	var o outer
	if err := DecodeStrict([]byte(`{"U": { "a" : [1, 2] } ,"UP":"x","US":[true,-1.5e3]}`), &o); err != nil {
		t.Fatal(err)
	}
	if o.U.got != `{ "a" : [1, 2] }` || o.UP.got != `"x"` || o.US[0].got != "true" || o.US[1].got != "-1.5e3" {
		t.Errorf("raw bytes passed: %+v %+v %+v", o.U, o.UP, o.US)
	}
	l := decErrList(t, DecodeStrict([]byte(`{"U":"error","UP":"list","US":["x","plain","wrapped","nilerr","emptylist"]}`), &o))
	want := []Error{
		{Code: InvalidParameterException, Path: "U.Inner", Message: "bad value"},
		{Code: ValidationException, Path: "UP", Message: "first"},
		{Code: LimitExceededException, Path: "UP[2]", Message: "second"},
		{Code: ValidationException, Path: "US[1]", Message: "plain error"},
		{Code: EntityNotFoundException, Path: "US[2]", Message: "gone"},
		{Code: ValidationException, Path: "US[3]", Message: "invalid value"},
		{Code: ValidationException, Path: "US[4]", Message: "invalid value"},
	}
	if len(l) != len(want) {
		t.Fatalf("got %v", l)
	}
	for i := range want {
		if *l[i] != want[i] {
			t.Errorf("error %d: got %+v, want %+v", i, *l[i], want[i])
		}
	}
	// UnmarshalJSON never sees invalid input or null.
	decCheckErrs(t, DecodeStrict([]byte("{\"U\":\"\xff\",\"UP\":null}"), &o), decWant{"U", "~invalid UTF-8"})
	var o2 outer
	if err := DecodeStrict([]byte(`{"U":null}`), &o2); err != nil || o2.U.got != "" {
		t.Errorf("null: %v %+v", err, o2)
	}
}

func TestDecodeStrict_Depth(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	if err := DecodeStrict([]byte(nest(DecodeMaxDepth)), new(any)); err != nil {
		t.Errorf("depth %d: %v", DecodeMaxDepth, err)
	}
	decCheckErrs(t, DecodeStrict([]byte(nest(DecodeMaxDepth+1)), new(any)),
		decWant{strings.Repeat("[0]", DecodeMaxDepth), fmt.Sprintf("invalid JSON at offset %d: nesting deeper than 100 levels", DecodeMaxDepth)})
	// Far deeper input, into every kind of target, and when skipped: an error, no stack overflow.
	deep := []byte(strings.Repeat(`{"A":[`, 1_000_000))
	for _, into := range []any{new(any), new(decTestKinds), new(json.RawMessage), new(decTestRules), new(decTestUnmarshaler)} {
		l := decErrList(t, DecodeStrict(deep, into))
		if !strings.Contains(l[len(l)-1].Message, "nesting deeper than 100 levels") {
			t.Errorf("%T: %v", into, l[len(l)-1])
		}
	}
	type node struct {
		Kids []node `json:"Kids"`
		Next *node  `json:"Next"`
	}
	var n node
	if err := DecodeStrict([]byte(`{"Kids":[{"Kids":[]},{"Next":{"Kids":[{}]}}]}`), &n); err != nil || len(n.Kids[1].Next.Kids) != 1 {
		t.Errorf("recursive type: %v %+v", err, n)
	}
}

func TestDecodeStrict_ErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Rules":[`)
	for i := range 100_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Nam":1}`)
	}
	b.WriteString(`]}`)
	l := decErrList(t, DecodeStrict([]byte(b.String()), new(decTestRules)))
	if len(l) != DecodeMaxErrors+1 {
		t.Fatalf("got %d errors", len(l))
	}
	if l[0].Path != "Rules[0].Nam" || l[99].Path != "Rules[99].Nam" || l[100].Message != "too many errors: stopped after 100" {
		t.Errorf("got %v ... %v %v", l[0], l[99], l[100])
	}
}

// DecodeStrict never panics on a type it cannot fill: it reports the value.
func TestDecodeStrict_UnsupportedTypes(t *testing.T) {
	type ptrCycle *ptrCycle
	type unexportedEmbed struct{ *decTestEmbedded }
	for _, tc := range []struct {
		into any
		in   string
		want decWant
	}{
		{new(chan int), `1`, decWant{"", "unsupported Go type chan int"}},
		{new(func()), `{}`, decWant{"", "unsupported Go type func()"}},
		{new(complex128), `1`, decWant{"", "unsupported Go type complex128"}},
		{new([2]int), `[1,2]`, decWant{"", "unsupported Go type [2]int"}},
		{new(map[int]string), `{"1":"a"}`, decWant{"", "unsupported Go type map[int]string"}},
		{new(error), `"x"`, decWant{"", "unsupported Go type error"}},
		{new(ptrCycle), `{}`, decWant{"", "~unsupported Go type"}},
		{new(struct{ C chan int }), `{"C":[1,"x"]}`, decWant{"C", "unsupported Go type chan int"}},
		{new(unexportedEmbed), `{"Promoted":"x"}`, decWant{"Promoted", "cannot set embedded pointer to unexported struct type policy.decTestEmbedded"}},
	} {
		err := DecodeStrict([]byte(tc.in), tc.into)
		decCheckErrs(t, err, tc.want)
		// null is fine for any type.
		if err := DecodeStrict([]byte(`null`), tc.into); err != nil {
			t.Errorf("%T null: %v", tc.into, err)
		}
	}
	for _, v := range []any{nil, decTestRules{}, (*decTestRules)(nil), 3} {
		l := decErrList(t, DecodeStrict([]byte(`{}`), v))
		if !strings.Contains(l[0].Message, "non-nil pointer") {
			t.Errorf("%T: %v", v, l)
		}
	}
}

// decTestBase and decTestOverlay check that embedding follows encoding/json.
type decTestBase struct {
	ID    string
	Name  string `json:"name"`
	Other string
}

type decTestOther struct {
	Other string
	Deep  string
}

type decTestOverlay struct {
	decTestBase
	decTestOther        // Other is ambiguous at depth 1: neither is a member
	Name         string // shallower: wins over decTestBase.Name ("name" is a different member)
	ID           int    `json:"ID"`
}

func TestDecodeStrict_Embedding(t *testing.T) {
	in := `{"ID":1,"Name":"outer","name":"inner","Deep":"d"}`
	var got, want decTestOverlay
	if err := DecodeStrict([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) || got.decTestBase.Name != "inner" || got.Deep != "d" {
		t.Errorf("got %+v, want %+v", got, want)
	}
	decCheckErrs(t, DecodeStrict([]byte(`{"Other":"x"}`), new(decTestOverlay)), decWant{"Other", `unknown field "Other"`})
}

// Differential check: on input without duplicate, unknown or wrong-case keys and
// with valid UTF-8, DecodeStrict gives exactly what encoding/json gives.
func TestDecodeStrict_MatchesEncodingJSON(t *testing.T) {
	inputs := []struct {
		in   string
		into func() any
	}{
		{`{"Rules":[{"Name":"a","Effect":"ALLOW","IpRanges":["10.0.0.0/8"],"DateCreated":1.5}]}`, func() any { return new(decTestRules) }},
		{`{"Rules":[]}`, func() any { return new(decTestRules) }},
		{`{}`, func() any { return new(decTestRules) }},
		{`[]`, func() any { return new([]decTestRule) }},
		{`[{"Name":"x"},null,{}]`, func() any { return new([]*decTestRule) }},
		{` {"a" : [1, -0, 1.5e-7, 1E+2, "x\u0000y", true, false, null, {}, []]} `, func() any { return new(any) }},
		{`"\ud83d\ude00\u00e9\/"`, func() any { return new(string) }},
		{`123456789012345678901234567890`, func() any { return new(float64) }},
		{`1e-400`, func() any { return new(float64) }},
		{`-0`, func() any { return new(int) }},
		{`"-12.5e3"`, func() any { return new(json.Number) }},
		{`{"a":{"b":null}}`, func() any { return new(map[string]map[string]*int) }},
		{`{"a":null}`, func() any { return new(map[string]any) }},
		{`{"a":null,"b":[1]}`, func() any { return new(map[string]*json.RawMessage) }},
		{`[null,{}]`, func() any { return new([]*json.RawMessage) }},
		{`{"k":"v"}`, func() any { return new(map[decTestName]decTestName) }},
		{`"AAEC/w=="`, func() any { return new([]byte) }},
		{`null`, func() any { return new(*decTestRules) }},
		{`{"Raw":{"x":[ 1 ]} ,"Nested":{"Raw":"s"}}`, func() any { return new(decTestKinds) }},
	}
	for _, c := range inputs {
		decDiff(t, []byte(c.in), c.into)
	}

	// Seeded random values of every kind, encoded by encoding/json.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		v := decRandomKinds(rng, 3)
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(2) == 0 {
			var b bytes.Buffer
			if err := json.Indent(&b, data, "", "\t"); err != nil {
				t.Fatal(err)
			}
			data = b.Bytes()
		}
		decDiff(t, data, func() any { return new(decTestKinds) })
	}
	// Seeded random JSON text, into generic targets.
	for range 2000 {
		var b []byte
		b = decRandomJSON(rng, b, 4)
		decDiff(t, b, func() any { return new(any) })
		if b[0] == '{' {
			decDiff(t, b, func() any { return new(map[string]any) })
		}
	}
}

// decDiff checks that DecodeStrict and encoding/json agree on data.
func decDiff(t testing.TB, data []byte, into func() any) {
	t.Helper()
	strict, loose := into(), into()
	serr := DecodeStrict(data, strict)
	lerr := json.Unmarshal(data, loose)
	if serr != nil {
		if lerr == nil {
			t.Errorf("%q into %T: DecodeStrict fails (%v), encoding/json does not", data, strict, serr)
		}
		return
	}
	if lerr != nil {
		t.Errorf("%q into %T: encoding/json fails (%v), DecodeStrict does not", data, strict, lerr)
		return
	}
	if !reflect.DeepEqual(strict, loose) {
		t.Errorf("%q into %T:\nDecodeStrict  %#v\nencoding/json %#v", data, strict, strict, loose)
	}
}

const decRandomChars = "aZ09 _-/\\\"\t\n\x00\x1féß€😀\u2028\ufeff"

func decRandomString(rng *rand.Rand) string {
	r := []rune(decRandomChars)
	var b strings.Builder
	for range rng.IntN(8) {
		b.WriteRune(r[rng.IntN(len(r))])
	}
	return b.String()
}

func decRandomKinds(rng *rand.Rand, depth int) *decTestKinds {
	v := &decTestKinds{}
	pick := func() bool { return rng.IntN(3) == 0 }
	if pick() {
		v.S = decRandomString(rng)
	}
	v.B = pick()
	if pick() {
		v.I = int(rng.Int64())
		v.I8 = int8(rng.Int())
		v.I16 = int16(rng.Int())
		v.I32 = int32(rng.Int())
		v.I64 = -rng.Int64()
	}
	if pick() {
		v.U, v.U8, v.U16, v.U32, v.U64, v.Uptr = uint(rng.Uint64()), uint8(rng.Uint64()), uint16(rng.Uint64()), rng.Uint32(), rng.Uint64(), uintptr(rng.Uint32())
	}
	if pick() {
		v.F32 = float32(rng.NormFloat64() * 1e6)
		v.F64 = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(600)-300))
		v.N = json.Number(strconv.FormatFloat(rng.NormFloat64(), 'g', -1, 64))
	}
	if pick() {
		raw := json.RawMessage(`{"r":[1,"` + strconv.Itoa(rng.IntN(9)) + `"]}`)
		v.Raw = &raw
	}
	switch rng.IntN(5) {
	case 0:
		v.A = map[string]any{"k": []any{1.5, "s", nil, true}}
	case 1:
		v.A = decRandomString(rng)
	case 2:
		v.A = rng.Float64()
	}
	if pick() {
		v.M = map[string]int{}
		for range rng.IntN(4) {
			v.M[decRandomString(rng)] = rng.IntN(100) - 50
		}
	}
	if pick() {
		v.MN = map[decTestName]decTestName{decTestName(decRandomString(rng)): decTestName(decRandomString(rng))}
	}
	if pick() {
		s := decRandomString(rng)
		v.P = &s
		n := rng.IntN(10)
		pn := &n
		v.PP = &pn
	}
	if pick() {
		v.Bytes = []byte(decRandomString(rng))
	}
	if pick() {
		v.SS = []string{}
		for range rng.IntN(4) {
			v.SS = append(v.SS, decRandomString(rng))
		}
	}
	if depth > 0 && pick() {
		v.Nested = decRandomKinds(rng, depth-1)
	}
	if pick() {
		e := Effect(1 + rng.IntN(2))
		v.E = &e
		ts := Timestamp(rng.Int64N(4e18) - 2e18)
		v.T = &ts
	}
	if pick() {
		a := netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(256))})
		v.Addr = &a
	}
	if pick() {
		v.Named = decTestName(decRandomString(rng))
		v.Tags = append(v.Tags, struct{ Key, Value string }{decRandomString(rng), decRandomString(rng)})
		v.Renamed = decRandomString(rng)
		v.Dash = decRandomString(rng)
	}
	if pick() {
		v.Promoted = decRandomString(rng)
		v.DecTestEmbeddedPtr = &DecTestEmbeddedPtr{ViaPtr: rng.IntN(5)}
	}
	return v
}

// decRandomJSON appends a random JSON value with unique keys and valid UTF-8.
func decRandomJSON(rng *rand.Rand, b []byte, depth int) []byte {
	ws := func() {
		for range rng.IntN(2) {
			b = append(b, " \t\r\n"[rng.IntN(4)])
		}
	}
	ws()
	switch k := rng.IntN(8); {
	case k == 0 && depth > 0:
		b = append(b, '{')
		for i := range rng.IntN(5) {
			if i > 0 {
				b = append(b, ',')
			}
			ws()
			b = decRandomJSONString(rng, b, "k"+strconv.Itoa(i))
			ws()
			b = append(b, ':')
			b = decRandomJSON(rng, b, depth-1)
		}
		ws()
		b = append(b, '}')
	case k == 1 && depth > 0:
		b = append(b, '[')
		for i := range rng.IntN(5) {
			if i > 0 {
				b = append(b, ',')
			}
			b = decRandomJSON(rng, b, depth-1)
		}
		ws()
		b = append(b, ']')
	case k == 2:
		b = decRandomJSONString(rng, b, decRandomString(rng))
	case k == 3:
		nums := []string{"0", "-0", "1", "-1", "0.5", "1e10", "1E-5", "-2.5e+3", "123456789012345678901234567890",
			"1e308", "4.9e-324", "1e-400", "0.1", "9007199254740993"}
		b = append(b, nums[rng.IntN(len(nums))]...)
	case k == 4:
		b = strconv.AppendFloat(b, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(40)-20)), 'g', -1, 64)
	case k == 5:
		b = append(b, "true"...)
	case k == 6:
		b = append(b, "false"...)
	default:
		b = append(b, "null"...)
	}
	ws()
	return b
}

// decRandomJSONString appends s as a JSON string, escaping in random ways; key
// strings keep the prefix that makes them unique.
func decRandomJSONString(rng *rand.Rand, b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || rng.IntN(6) == 0:
			if r > 0xffff {
				r1, r2 := rune(0xd800+((r-0x10000)>>10)), rune(0xdc00+((r-0x10000)&0x3ff))
				b = fmt.Appendf(b, `\u%04x\u%04X`, r1, r2)
			} else {
				b = fmt.Appendf(b, `\u%04x`, r)
			}
		case r == '/' && rng.IntN(2) == 0:
			b = append(b, `\/`...)
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}

// DecodeStrict is safe for concurrent use, also while it builds its type tables.
func TestDecodeStrict_Concurrent(t *testing.T) {
	rules := decReadExample(t, "list-access-control-rules.json")
	users := decReadExample(t, "list-users.json")
	type fresh1 struct{ A, B []decTestRule }
	type fresh2 struct{ M map[string]fresh1 }
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				var r decTestRules
				var u decTestUsers
				var f fresh2
				if err := DecodeStrict(rules, &r); err != nil || len(r.Rules) != 2 {
					t.Error(err)
				}
				if err := DecodeStrict(users, &u); err != nil || len(u.Users) != 2 {
					t.Error(err)
				}
				if err := DecodeStrict([]byte(`{"M":{"x":{"A":[{"Name":"n`+strconv.Itoa(i)+`"}]}}}`), &f); err != nil {
					t.Error(err)
				}
				if err := DecodeStrict([]byte(`{"Rules":[{"Nme":1}]}`), &r); err == nil {
					t.Error("no error")
				}
			}
		}()
	}
	wg.Wait()
}

// Huge or hostile inputs cost time linear in their size: doubling the input
// several times must not square the time.
func TestDecodeStrict_LinearTime(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	gens := map[string]func(n int) []byte{
		"long string": func(n int) []byte { return []byte(`{"Name":"` + strings.Repeat("a\\u00e9é", n) + `"}`) },
		"long key": func(n int) []byte {
			return []byte(`{"Rules":[{"NotIpRange` + strings.Repeat("x", 8*n) + `":[` + strings.Repeat("\"\xff\",", 200) + `1]}]}`)
		},
		"many unknown keys": func(n int) []byte {
			var b bytes.Buffer
			b.WriteString(`{"Rules":[{`)
			for i := range n {
				fmt.Fprintf(&b, `"NotIpRange%d":[1],`, i)
			}
			b.WriteString(`"Name":"x"}]}`)
			return b.Bytes()
		},
		"many map keys": func(n int) []byte {
			var b bytes.Buffer
			b.WriteString(`{"M":{`)
			for i := range n {
				fmt.Fprintf(&b, `"k%d":%d,`, i, i)
			}
			b.WriteString(`"k0":0}}`)
			return b.Bytes()
		},
		"many elements": func(n int) []byte {
			return []byte(`{"SS":[` + strings.Repeat(`"1.2.3.4/32",`, n) + `"x"],"A":[` + strings.Repeat(`[{"a":1}],`, n) + `0]}`)
		},
		"deep repeated": func(n int) []byte {
			return []byte(strings.Repeat(`[`+strings.Repeat("[", 99)+strings.Repeat("]", 99)+`,`, n) + "0" + strings.Repeat("]", n))
		},
	}
	for name, gen := range gens {
		t.Run(name, func(t *testing.T) {
			measure := func(n int) time.Duration {
				data := gen(n)
				best := time.Duration(math.MaxInt64)
				for range 5 {
					start := time.Now()
					_ = DecodeStrict(data, new(decTestKinds))
					_ = DecodeStrict(data, new(decTestRule))
					best = min(best, time.Since(start))
				}
				return best
			}
			const n = 4096
			small, large := measure(n), measure(16*n)
			// Linear: about 16 times. Quadratic would be about 256.
			t.Logf("n=%d: %v; n=%d: %v", n, small, 16*n, large)
			if large > 64*small+20*time.Millisecond {
				t.Errorf("n=%d: %v; n=%d: %v", n, small, 16*n, large)
			}
		})
	}
}

// decBenchRules is a rules file of 10 rules with 1024 ranges each.
func decBenchRules() []byte {
	var r decTestRules
	for i := range 10 {
		rule := decTestRule{Name: "rule" + strconv.Itoa(i), Effect: Allow, Description: "benchmark rule",
			Actions: []string{"EWS", "IMAP"}, UserIds: []string{"S-1-1-11-1111111111-2222222222-3333333333-3333"},
			DateCreated: 1581635628e9, DateModified: 1581635628e9}
		for j := range 1024 {
			rule.IpRanges = append(rule.IpRanges, fmt.Sprintf("10.%d.%d.0/24", i, j%256))
		}
		r.Rules = append(r.Rules, rule)
	}
	b, err := json.MarshalIndent(r, "", "    ")
	if err != nil {
		panic(err)
	}
	return b
}

var decBenchSink decTestRules

func BenchmarkDecodeStrict(b *testing.B) {
	data := decBenchRules()
	b.Run("DecodeStrict", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r decTestRules
			if err := DecodeStrict(data, &r); err != nil {
				b.Fatal(err)
			}
			decBenchSink = r
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r decTestRules
			if err := json.Unmarshal(data, &r); err != nil {
				b.Fatal(err)
			}
			decBenchSink = r
		}
	})
	b.Run("encoding-json-DisallowUnknownFields", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			var r decTestRules
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				b.Fatal(err)
			}
			decBenchSink = r
		}
	})
}

func ExampleDecodeStrict() {
	in := `{"Rules":[{"Name":"office","Effect":"DENY","NotIpRange":["192.0.2.0/24"],"effect":"ALLOW"}]}`
	type rule struct {
		Name        string   `json:"Name"`
		Effect      Effect   `json:"Effect"`
		NotIpRanges []string `json:"NotIpRanges,omitempty"`
	}
	var v struct {
		Rules []rule `json:"Rules"`
	}
	err := DecodeStrict([]byte(in), &v)
	for _, e := range Errors(err) {
		fmt.Println(e)
	}
	fmt.Println(len(v.Rules))
	// Output:
	// ValidationException: Rules[0].NotIpRange: unknown field "NotIpRange" (did you mean "NotIpRanges"?)
	// ValidationException: Rules[0].effect: unknown field "effect" (did you mean "Effect"?)
	// 0
}
