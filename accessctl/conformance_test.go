package accessctl_test

// The conformance corpus: testdata/conformance/*.json. Each file is one case:
//
//	{
//	  "name":     the file name without ".json",
//	  "reason":   "SEMANTICS A…: why the answers are what they are",
//	  "rules":    exactly `aws workmail list-access-control-rules` output,
//	  "users":    optional `aws workmail list-users` output (turns on A18),
//	  "requests": [{"request": a GetAccessControlEffect request,
//	                "want": {"Effect": …, "MatchedRules": […]}   (compact, in this key order)
//	                or "wantError": "<AWS code>"}]
//	}
//
// Every request runs through GetAccessControlEffect (the wire path), and, when
// the wire request converts to a Request, through Evaluate, Effect, Decide and
// reference.Evaluate; each answer is marshalled and compared byte for byte with
// "want", or its AWS code with "wantError".

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/internal/wirecase"
	"github.com/wmpolicy/wmpolicy/policy"
)

type conformanceCase struct {
	Name     string              `json:"name"`
	Reason   string              `json:"reason"`
	Rules    json.RawMessage     `json:"rules"`
	Users    json.RawMessage     `json:"users,omitempty"`
	Requests []conformanceRecord `json:"requests"`
}

type conformanceRecord = wirecase.Record

// SEMANTICS A3–A12 A18 D3
func TestConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "conformance", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 16 {
		t.Fatalf("found %d conformance cases, want at least 16", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c conformanceCase
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields() // a typo in a case file must not drop a expectDecision
			if err := dec.Decode(&c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if c.Name != name {
				t.Errorf("name %q, want the file name %q", c.Name, name)
			}
			if !strings.HasPrefix(c.Reason, "SEMANTICS A") && !strings.HasPrefix(c.Reason, "SEMANTICS D") {
				t.Errorf("reason %q does not start with the SEMANTICS rule", c.Reason)
			}
			if len(c.Requests) == 0 {
				t.Fatal("no requests")
			}
			runConformanceCase(t, c)
		})
	}
}

func runConformanceCase(t *testing.T, c conformanceCase) {
	rules, err := accessctl.DecodeRules(c.Rules)
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	var opts accessctl.Options
	if len(c.Users) > 0 {
		dir, err := policy.DecodeUsers(c.Users)
		if err != nil {
			t.Fatalf("users: %v", err)
		}
		opts.Directory = dir
	}
	p, err := accessctl.Compile(rules, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	for i, rec := range c.Requests {
		var in accessctl.GetAccessControlEffectInput
		dec := json.NewDecoder(bytes.NewReader(rec.Request))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("requests[%d].request: %v", i, err)
		}
		check := wirecase.For(t, i, rec)
		answer := check.Answer

		out, err := p.GetAccessControlEffect(in)
		answer("GetAccessControlEffect", out, err)

		req, err := in.Request()
		if err != nil {
			// Refused before evaluation: the wire expectDecision is the only path.
			answer("Request", accessctl.GetAccessControlEffectOutput{}, err)
			continue
		}
		eff, names, err := p.Evaluate(req, []string{})
		answer("Evaluate", accessctl.GetAccessControlEffectOutput{Effect: eff, MatchedRules: names}, err)
		eff, err = p.Effect(req)
		if rec.WantError == "" && err == nil && !bytes.Contains(check.Want(), []byte(`"Effect":"`+eff.String()+`"`)) {
			t.Errorf("%s: Effect = %v, want %s", check.Label(), eff, check.Want())
		}
		if got := policy.CodeOf(err); string(got) != rec.WantError {
			t.Errorf("%s: Effect error %v, want %q", check.Label(), err, rec.WantError)
		}
		d, err := p.Decide(req)
		answer("Decide", d.Output(), err)
		res, err := reference.Evaluate(rules, req, opts.Directory)
		answer("reference.Evaluate", accessctl.GetAccessControlEffectOutput{Effect: res.Effect, MatchedRules: res.MatchedRules}, err)
	}
}

// The documented AWS example in the corpus is the AWS CLI documentation's, verbatim.
//
// SEMANTICS D3
func TestConformanceAWSExampleIsVerbatim(t *testing.T) {
	shared := readAWSExample(t, "list-access-control-rules.json")
	data, err := os.ReadFile(filepath.Join("testdata", "conformance", "aws-documented-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c conformanceCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := json.Compact(&a, shared); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&b, c.Rules); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("aws-documented-example.json rules differ from %s:\n%s\n%s", awsExamplesDir, b.Bytes(), a.Bytes())
	}
	req := readAWSExample(t, "get-access-control-effect.request.json")
	resp := readAWSExample(t, "get-access-control-effect.response.json")
	var r1, r2, w1, w2 bytes.Buffer
	json.Compact(&r1, req)
	json.Compact(&w1, resp)
	if len(c.Requests) == 0 {
		t.Fatal("no requests")
	}
	json.Compact(&r2, c.Requests[0].Request)
	json.Compact(&w2, c.Requests[0].Want)
	if !bytes.Equal(r1.Bytes(), r2.Bytes()) || !bytes.Equal(w1.Bytes(), w2.Bytes()) {
		t.Errorf("first request/response differ from the AWS CLI documentation:\n%s -> %s\n%s -> %s", r2.Bytes(), w2.Bytes(), r1.Bytes(), w1.Bytes())
	}
}
