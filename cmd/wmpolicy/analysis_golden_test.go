package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

const (
	careless = "testdata/careless.json"
	proposed = "testdata/proposed.json"
)

// goldenCases are the analysis outputs kept as golden files: every output
// form of every analysis verb on the shipped example organization, a
// careless edit of it (every finding kind with a subject) and generated
// rule sets.
func goldenCases(gen1, gen2 string) []struct {
	name string
	code int
	args []string
} {
	org := []string{"--users", exUsers, "--roles", exRoles}
	return []struct {
		name string
		code int
		args []string
	}{
		{"audit-org.txt", 0, append([]string{"audit", exRules}, org...)},
		{"audit-org.json", 0, append([]string{"audit", exRules, "--output", "json"}, org...)},
		{"audit-org.sarif", 0, append([]string{"audit", exRules, "--output", "sarif"}, org...)},
		{"audit-careless.txt", 4, append([]string{"audit", careless}, org...)},
		{"audit-careless.json", 4, append([]string{"audit", careless, "--output", "json"}, org...)},
		{"audit-careless.sarif", 4, append([]string{"audit", careless, "--output", "sarif"}, org...)},
		{"audit-careless-nodir.txt", 4, []string{"audit", careless}},
		{"diff-org.txt", 5, append([]string{"diff", exRules, proposed}, org...)},
		{"diff-org.json", 5, append([]string{"diff", exRules, proposed, "--output", "json"}, org...)},
		{"diff-org.md", 5, append([]string{"diff", exRules, proposed, "--output", "markdown"}, org...)},
		{"diff-org-nodir.txt", 5, []string{"diff", exRules, proposed}},
		{"diff-same.md", 0, []string{"diff", exRules, exRules, "--output", "markdown"}},
		{"whocan-carol.txt", 0, append([]string{"who-can", exRules, "--user", "carol"}, org...)},
		{"whocan-carol.json", 0, append([]string{"who-can", exRules, "--user", "carol", "--output", "json"}, org...)},
		{"whocan-dave.txt", 0, append([]string{"who-can", exRules, "--user", "dave@example.com"}, org...)},
		{"whocan-role.txt", 0, append([]string{"who-can", exRules, "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}, org...)},
		{"whocan-role-noroles.txt", 0, []string{"who-can", exRules, "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10"}},
		{"whocan-role.json", 0, append([]string{"who-can", exRules, "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10", "--output", "json"}, org...)},
		{"whocan-request.txt", 0, append([]string{"who-can", exRules, "--action", "IMAP", "--ip", "10.8.1.1"}, org...)},
		{"whocan-request.json", 0, append([]string{"who-can", exRules, "--action", "EWS", "--ip", "10.20.1.1", "--output", "json"}, org...)},
		{"explain-bob.txt", 2, append([]string{"explain", "--rules", exRules, "--ip", "203.0.113.9", "--action", "IMAP", "--user", "bob"}, org...)},
		{"explain-role.json", 0, append([]string{"explain", "--rules", exRules, "--ip", "10.20.1.1", "--action", "EWS", "--role", "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10", "--output", "json"}, org...)},
		{"test-org.txt", 0, append([]string{"test", "--rules", exRules, "../../examples/org/tests.json"}, org...)},
		{"test-org-coverage.txt", 0, append([]string{"test", "--rules", exRules, "--coverage", "../../examples/org/tests.json"}, org...)},
		{"test-wrong.txt", 6, append([]string{"test", "--rules", exRules, "testdata/tests-wrong.json"}, org...)},
		{"test-wrong.json", 6, append([]string{"test", "--rules", exRules, "testdata/tests-wrong.json", "--output", "json"}, org...)},
		{"gen-audit.txt", -1, []string{"audit", gen1}},
		{"gen-audit.sarif", -1, []string{"audit", gen1, "--output", "sarif"}},
		{"gen-diff.txt", 5, []string{"diff", gen1, gen2}},
		{"gen-diff.json", 5, []string{"diff", gen1, gen2, "--output", "json"}},
		{"gen-diff.md", 5, []string{"diff", gen1, gen2, "--output", "markdown"}},
		{"gen-whocan.txt", 0, []string{"who-can", gen1, "--user", "S-1-1-11-1111111111-2222222222-3333333333-0002"}},
	}
}

// genRules writes a generated rules file: n rules with a few ranges each,
// naming users and roles from small pools, from a fixed seed.
func genRules(t *testing.T, dir string, seed uint64, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 20))
	acts := []string{"ActiveSync", "AutoDiscover", "EWS", "IMAP", "SMTP", "WindowsOutlook", "WebMail"}
	rangeText := func() string {
		bits := 16 + rng.IntN(13)
		a := 0x0A000000 | rng.Uint32()&0x00FFFFFF
		if rng.IntN(3) == 0 {
			a = 0xCB007100 | rng.Uint32()&0xFF // 203.0.113.0/24
			bits = 24 + rng.IntN(9)
		}
		a &^= (1<<(32-bits) - 1)
		return fmt.Sprintf("%d.%d.%d.%d/%d", a>>24, a>>16&255, a>>8&255, a&255, bits)
	}
	quote := func(ss []string) string { return `["` + strings.Join(ss, `","`) + `"]` }
	rules := []string{defaultRuleJSON}
	for k := range n {
		effect := "DENY"
		if rng.IntN(3) == 0 {
			effect = "ALLOW"
		}
		r := fmt.Sprintf(`{"Name":"gen-%02d","Effect":"%s"`, k, effect)
		var ips []string
		for range 1 + rng.IntN(4) {
			ips = append(ips, rangeText())
		}
		if rng.IntN(2) == 0 {
			r += `,"IpRanges":` + quote(ips)
		} else {
			r += `,"NotIpRanges":` + quote(ips)
		}
		if rng.IntN(2) == 0 {
			r += `,"Actions":` + quote([]string{acts[rng.IntN(7)], acts[rng.IntN(7)]})
		}
		switch rng.IntN(3) {
		case 0:
			r += fmt.Sprintf(`,"UserIds":["S-1-1-11-1111111111-2222222222-3333333333-%04d"]`, rng.IntN(4))
		case 1:
			r += fmt.Sprintf(`,"ImpersonationRoleIds":["role-%d"]`, rng.IntN(3))
		}
		rules = append(rules, r+"}")
	}
	p := filepath.Join(dir, fmt.Sprintf("gen%d.json", seed))
	if err := os.WriteFile(p, []byte(`{"Rules": [`+strings.Join(rules, ",\n")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Golden files of every analysis output form (text, JSON, SARIF, Markdown)
// on the shipped example organization and on generated rule sets.
// go test -run TestAnalysisGolden -update rewrites them.
func TestAnalysisGolden(t *testing.T) {
	dir := t.TempDir()
	gen1, gen2 := genRules(t, dir, 1, 6), genRules(t, dir, 2, 6)
	for _, tc := range goldenCases(gen1, gen2) {
		code, out, errs := runCLI(t, "", tc.args...)
		if tc.code >= 0 && code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", tc.name, code, tc.code, out, errs)
			continue
		}
		if errs != "" {
			t.Errorf("%s: stderr %s", tc.name, errs)
		}
		out = strings.ReplaceAll(out, dir+string(filepath.Separator), "GEN/")
		out = strings.ReplaceAll(out, strings.TrimPrefix(filepath.ToSlash(dir), "/")+"/", "GEN/") // in SARIF URIs
		golden(t, tc.name, out)
		if strings.HasSuffix(tc.name, ".sarif") {
			validateSARIF(t, tc.name, []byte(out))
		}
	}
}

// validateSARIF checks a log against the SARIF 2.1.0 JSON schema (OASIS,
// errata 01), vendored in testdata/sarif-schema-2.1.0.json.
func validateSARIF(t testing.TB, name string, log []byte) {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(sarifSchema, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(sarifSchema)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s: not valid SARIF 2.1.0: %v", name, err)
	}
}

// The schema check is not vacuous: a log with a level SARIF does not define
// fails it.
func TestSARIFSchemaRejects(t *testing.T) {
	_, out, _ := runCLI(t, "", "audit", careless, "--output", "sarif")
	bad := strings.Replace(out, `"level": "note"`, `"level": "suggestion"`, 1)
	if bad == out {
		t.Fatal("no note level in the log")
	}
	rec := &recorder{TB: t}
	validateSARIF(rec, "bad", []byte(bad))
	if !rec.failed {
		t.Error("a result with level \"suggestion\" passed the SARIF 2.1.0 schema")
	}
}

// recorder is a testing.TB that records a failure instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}
