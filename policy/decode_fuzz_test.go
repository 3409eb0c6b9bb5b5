package policy

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Targets for the differential property. Unmarshalers (Effect, Timestamp,
// json.RawMessage) sit behind pointers, where DecodeStrict and encoding/json
// also agree on null (for a non-pointer one, encoding/json calls
// UnmarshalJSON("null") while DecodeStrict leaves the zero value).
type decFuzzRule struct {
	Name                    string     `json:"Name"`
	Effect                  *Effect    `json:"Effect"`
	Description             string     `json:"Description,omitempty"`
	IpRanges                []string   `json:"IpRanges,omitempty"`
	NotIpRanges             []string   `json:"NotIpRanges,omitempty"`
	Actions                 []string   `json:"Actions,omitempty"`
	NotActions              []string   `json:"NotActions,omitempty"`
	UserIds                 []string   `json:"UserIds,omitempty"`
	NotUserIds              []string   `json:"NotUserIds,omitempty"`
	ImpersonationRoleIds    []string   `json:"ImpersonationRoleIds,omitempty"`
	NotImpersonationRoleIds []string   `json:"NotImpersonationRoleIds,omitempty"`
	DateCreated             *Timestamp `json:"DateCreated,omitempty"`
	DateModified            *Timestamp `json:"DateModified,omitempty"`
}

type decFuzzUser struct {
	Id          string           `json:"Id"`
	Email       string           `json:"Email,omitempty"`
	State       string           `json:"State,omitempty"`
	UserRole    *json.RawMessage `json:"UserRole,omitempty"`
	EnabledDate *json.RawMessage `json:"EnabledDate,omitempty"`
}

type decFuzzDoc struct {
	Rules  []decFuzzRule          `json:"Rules"`
	Users  []*decFuzzUser         `json:"Users"`
	Tags   map[string]string      `json:"Tags"`
	Counts map[string][]int8      `json:"Counts"`
	Extra  any                    `json:"Extra"`
	Num    json.Number            `json:"Num"`
	U      uint16                 `json:"U"`
	F      float32                `json:"F"`
	B      *bool                  `json:"B"`
	Bytes  []byte                 `json:"Bytes"`
	Nested map[string]*decFuzzDoc `json:"Nested"`
}

// FuzzDecodeStrict checks, on any input, that DecodeStrict
//   - never panics, whatever the target type;
//   - on failure returns an ErrorList of errors with a code and a message, and
//     leaves the target exactly as it was;
//   - on success agrees with encoding/json: it accepts the input into the same
//     type and gives an equal value (DecodeStrict only ever accepts less);
//   - on success into the real shapes (value Effect and Timestamp, raw members),
//     the failure properties hold too, and for list-users output (no
//     Timestamp: its MarshalJSON does not yet round-trip every value it reads)
//     the re-encoding of the result decodes to the same value.
func FuzzDecodeStrict(f *testing.F) {
	for _, seed := range []string{
		// The AWS CLI's outputs and the shapes' members.
		`{"Rules":[{"Name":"default","Effect":"ALLOW","Description":"Default WorkMail Rule","DateCreated":0.0,"DateModified":0.0},{"Name":"myRule","Effect":"DENY","Description":"my rule","UserIds":["S-1-1-11-1111111111-2222222222-3333333333-3333"],"DateCreated":1581635628.0,"DateModified":1581635628.0}]}`,
		`{"Users":[{"Id":"S-1-1-11-1111111111-2222222222-3333333333-3333","Email":"exampleUser1@site.awsapps.com","Name":"exampleUser1","State":"ENABLED","UserRole":"USER","EnabledDate":1532459261.827},{"Id":"S-1","Name":"g","State":"DISABLED","UserRole":"SYSTEM_USER"}]}`,
		`{"Rules":[{"Name":"r","Effect":"DENY","IpRanges":["10.0.0.0/8"],"NotIpRanges":["10.1.0.0/16"],"Actions":["EWS"],"NotActions":["IMAP"],"UserIds":["u"],"NotUserIds":["v"],"ImpersonationRoleIds":["i"],"NotImpersonationRoleIds":["j"],"DateModified":"2020-02-13T23:13:48Z"}]}`,
		`{"Tags":{"a":"b","a b":"c"},"Counts":{"x":[1,-128,127]},"Extra":{"k":[1,"s",true,null,{}]},"Num":-1.5e3,"U":65535,"F":1.5,"B":false,"Bytes":"aGk=","Nested":{"n":{"U":1}}}`,
		// Duplicate keys, wrong case, typos.
		`{"Rules":[{"Name":"a","Name":"b"}]}`,
		`{"Tags":{"a":"1","a":"2"}}`,
		`{"Extra":{"k":1,"k":2}}`,
		`{"Rules":[{"name":"a","EFFECT":"ALLOW"}]}`,
		`{"Rules":[{"NotIpRange":["0.0.0.0/0"]}]}`,
		`{"rules":[]}`,
		// Invalid UTF-8 and surrogate escapes.
		"{\"Rules\":[{\"Name\":\"\xff\"}]}",
		"{\"Rules\":[{\"N\xc3me\":1}]}",
		"{\"Users\":[{\"Id\":\"u\",\"UserRole\":\"\xed\xa0\x80\"}]}",
		`"\ud800"`,
		`{"Rules":[{"Name":"\udc00x"}]}`,
		`{"Rules":[{"Name":"\ud83d\ude00"}]}`,
		`{"Tags":{"\ud800\ud800":"x"}}`,
		// Deep nesting, huge values.
		strings.Repeat("[", 200),
		strings.Repeat(`{"Extra":`, 99) + "1" + strings.Repeat("}", 99),
		`{"Extra":"` + strings.Repeat("x", 1<<13) + `"}`,
		`{"Rules":[{"IpRanges":[` + strings.Repeat(`"10.0.0.0/8",`, 200) + `"x"]}]}`,
		// Numbers.
		`{"Extra":1e400}`, `{"F":1e39}`, `{"U":-0}`, `{"Num":-0}`, `{"Extra":-0}`, `{"U":65536}`,
		`{"Rules":[{"DateCreated":-1.5}]}`, `{"Rules":[{"DateCreated":1e400}]}`, `{"Num":"1e5"}`, `{"Num":"x"}`,
		`01`, `1.`, `-`, `1e+`, `.5`,
		// Syntax: trailing data and commas, BOM, NUL, control characters, empty.
		`{"Rules":[]} x`, `{"Rules":[],}`, `[1,]`, "\xef\xbb\xbf{}", "{\"Rules\":[{\"Name\":\"a\x00\"}]}",
		"\x00", "{\"Extra\":\"a\nb\"}", ``, ` `, `nul`, `{"Extra":[1 2]}`, `{"Extra" 1}`,
		// Nulls everywhere.
		`null`, `{"Rules":null,"Users":[null],"Tags":{"a":null},"Rules":[{"Effect":null,"DateCreated":null}]}`,
		`{"Users":[{"Id":"u","UserRole":null}]}`, `{"a":null}`, `[null]`, `[{"Name":null}]`,
		// Raw members that re-encode to different bytes of the same JSON value
		// (encoding/json compacts them and escapes <, > and &).
		`{"Users":[{"Id":"","UserRole":"&"}]}`, `{"Users":[{"Id":"u","UserRole":[1, {"a" : "<\u2028>"}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Differential targets.
		decFuzzDiff(t, data, func() *decFuzzDoc {
			return &decFuzzDoc{Rules: []decFuzzRule{{Name: "old"}}, U: 7, Tags: map[string]string{"old": "tag"}}
		})
		decFuzzDiff(t, data, func() *any { var v any = []any{"old"}; return &v })
		decFuzzDiff(t, data, func() *[]*decFuzzRule { return &[]*decFuzzRule{{Name: "old"}} })
		decFuzzDiff(t, data, func() *map[string]*json.RawMessage { return &map[string]*json.RawMessage{"old": nil} })

		// The real shapes.
		decFuzzCommon(t, data, func() *decTestRules { return &decTestRules{Rules: []decTestRule{{Name: "old", Effect: Deny}}} })
		decFuzzCommon(t, data, func() *decTestKinds { return &decTestKinds{S: "old"} })
		decFuzzRoundTrip(t, data, func() *decTestUsers {
			return &decTestUsers{Users: []decTestUser{{Id: "old", UserRole: json.RawMessage(`"USER"`)}}}
		})
	})
}

// decFuzzCommon decodes data into a target made by mk and checks the failure
// properties; it returns the target and whether decoding succeeded.
func decFuzzCommon[T any](t *testing.T, data []byte, mk func() *T) (*T, bool) {
	t.Helper()
	v := mk()
	err := DecodeStrict(data, v)
	if err == nil {
		return v, true
	}
	l, ok := err.(ErrorList)
	if !ok || len(l) == 0 || len(l) > DecodeMaxErrors+1 {
		t.Fatalf("%T: error %T (%d): %v", v, err, len(l), err)
	}
	for _, e := range l {
		if e == nil || e.Code == "" || e.Message == "" {
			t.Fatalf("%T: malformed error %#v in %v", v, e, err)
		}
	}
	if !reflect.DeepEqual(v, mk()) {
		t.Fatalf("%T: target changed on failure (%v): %#v", v, err, v)
	}
	return v, false
}

// decFuzzDiff checks that whatever DecodeStrict accepts, encoding/json accepts
// into the same (zero) value with an equal result.
func decFuzzDiff[T any](t *testing.T, data []byte, mk func() *T) {
	t.Helper()
	v, ok := decFuzzCommon(t, data, mk)
	if !ok {
		return
	}
	want := new(T)
	if err := json.Unmarshal(data, want); err != nil {
		t.Fatalf("%T: DecodeStrict accepts %q, encoding/json does not: %v", v, data, err)
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("%T: %q\nDecodeStrict  %#v\nencoding/json %#v", v, data, v, want)
	}
}

// decFuzzRoundTrip checks that on success encoding/json's encoding of the
// result decodes back to the same value. Raw members are compared as JSON
// values: DecodeStrict keeps their bytes as written, and encoding/json
// compacts them and escapes HTML characters, so `"&"` comes back as
// `"\u0026"`.
func decFuzzRoundTrip[T any](t *testing.T, data []byte, mk func() *T) {
	t.Helper()
	v, ok := decFuzzCommon(t, data, mk)
	if !ok {
		return
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return
	}
	again := new(T)
	if err := DecodeStrict(enc, again); err != nil {
		t.Fatalf("%T: re-encoding %s fails: %v", v, enc, err)
	}
	if diff := cmp.Diff(v, again, decFuzzRawValue); diff != "" {
		t.Fatalf("%T: round trip through %s (-first +second):\n%s", v, enc, diff)
	}
}

// decFuzzRawValue compares json.RawMessage values by the JSON value they
// hold: each is decoded (numbers kept as written) and re-encoded, which
// compacts it, escapes it one way and sorts object keys. A raw member that
// does not decode compares by its bytes.
var decFuzzRawValue = cmp.Transformer("jsonValue", func(r json.RawMessage) string {
	d := json.NewDecoder(bytes.NewReader(r))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return "raw " + string(r)
	}
	b, err := json.Marshal(x)
	if err != nil {
		return "raw " + string(r)
	}
	return string(b)
})
