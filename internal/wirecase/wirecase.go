// Package wirecase checks answers against the conformance cases in the
// packages' testdata: each case lists wire requests, and for each either the
// wire answer it must get or the AWS error code it must fail with. accessctl
// and impersonation share it, so that both judge their paths' answers alike.
package wirecase

import (
	"bytes"
	"encoding/json"

	"github.com/wmpolicy/wmpolicy/policy"
)

// Record is one request of a case: the wire request, and exactly one of the
// wire answer wanted (any JSON layout: it is compared compacted) and the AWS
// error code wanted.
type Record struct {
	Request   json.RawMessage `json:"request"`
	Want      json.RawMessage `json:"want,omitempty"`
	WantError string          `json:"wantError,omitempty"`
}

// T is what a Checker needs of a test.
type T interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Checker judges the answers of one Record.
type Checker struct {
	t       T
	label   string
	want    []byte // compacted Want; nil when an error is wanted
	wantErr string
}

// For returns the Checker of rec, the case's i-th request. It fails the test
// (Fatalf) unless rec has exactly one of Want and WantError and Want is JSON.
func For(t T, i int, rec Record) *Checker {
	t.Helper()
	c := &Checker{t: t, label: string(rec.Request), wantErr: rec.WantError}
	switch {
	case len(rec.Want) > 0 && rec.WantError == "":
		var buf bytes.Buffer
		if err := json.Compact(&buf, rec.Want); err != nil {
			t.Fatalf("requests[%d].want: %v", i, err)
		}
		c.want = buf.Bytes()
	case len(rec.Want) == 0 && rec.WantError != "":
	default:
		t.Fatalf("requests[%d]: exactly one of want and wantError is required", i)
	}
	return c
}

// Answer checks the answer (out, err) of one path, named path in messages:
// with an error wanted, err must carry its code; otherwise err must be nil
// and out must marshal to the wanted JSON, byte for byte.
func (c *Checker) Answer(path string, out any, err error) {
	c.t.Helper()
	if c.wantErr != "" {
		if err == nil {
			got, _ := json.Marshal(out)
			c.t.Errorf("%s: %s answered %s, want %s", c.label, path, got, c.wantErr)
		} else if code := policy.CodeOf(err); string(code) != c.wantErr {
			c.t.Errorf("%s: %s error %v, want %s", c.label, path, err, c.wantErr)
		}
		return
	}
	if err != nil {
		c.t.Errorf("%s: %s error %v, want %s", c.label, path, err, c.want)
		return
	}
	got, err := json.Marshal(out)
	if err != nil {
		c.t.Errorf("%s: %s: marshal: %v", c.label, path, err)
		return
	}
	if !bytes.Equal(got, c.want) {
		c.t.Errorf("%s: %s answered\n %s\nwant\n %s", c.label, path, got, c.want)
	}
}

// Want returns the wanted answer, compacted; nil when an error is wanted.
func (c *Checker) Want() []byte { return c.want }

// Label returns the request, as the Checker's messages quote it.
func (c *Checker) Label() string { return c.label }
