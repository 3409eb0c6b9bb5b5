package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/analysis"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The canonical forms of the shipped organization's files are golden; an
// RFC 3339 capture of the rules, with rules and lists in another order,
// formats to the same bytes as the epoch capture (SEMANTICS D2: timestamps
// are read in both forms and written as epoch seconds).
func TestSemanticsD2_FmtGoldenAndCaptures(t *testing.T) {
	for _, tc := range []struct{ file, gold string }{
		{exRules, "fmt-rules.json"},
		{exUsers, "fmt-users.json"},
		{exRoles, "fmt-roles.json"},
		{"../../examples/org/role.json", "fmt-role.json"},
		{"testdata/rules-iso.json", "fmt-rules.json"},
		{"testdata/golden/fmt-rules.json", "fmt-rules.json"},
	} {
		file, gold := tc.file, tc.gold
		code, out, errs := runCLI(t, "", "fmt", file)
		if code != 0 || errs != "" {
			t.Fatalf("fmt %s: exit %d %s", file, code, errs)
		}
		golden(t, gold, out)
		// canonical output is canonical
		if code, out2, _ := runCLI(t, "", "fmt", "--check", filepath.Join("testdata", "golden", gold)); code != 0 || out2 != "" {
			t.Errorf("fmt --check of the golden %s: exit %d %s", gold, code, out2)
		}
	}
}

func TestFmtCheckAndWrite(t *testing.T) {
	orig, err := os.ReadFile("testdata/rules-iso.json")
	if err != nil {
		t.Fatal(err)
	}
	p := writeTemp(t, "rules.json", string(orig))
	if code, out, _ := runCLI(t, "", "fmt", "--check", p); code != exitNotCanonical || out != p+": not canonical (wmpolicy fmt -w "+p+")\n" {
		t.Errorf("--check of a non-canonical file: exit %d %q", code, out)
	}
	if data, _ := os.ReadFile(p); !bytes.Equal(data, orig) {
		t.Error("--check changed the file")
	}
	if code, out, errs := runCLI(t, "", "fmt", "-w", p); code != 0 || out != "" || errs != "" {
		t.Fatalf("-w: exit %d %q %q", code, out, errs)
	}
	if code, _, _ := runCLI(t, "", "fmt", "--check", p); code != 0 {
		t.Errorf("after -w the file is not canonical")
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{}, exitInvalid},
		{[]string{"--check", "-w", p}, exitInvalid},
		{[]string{"../../examples/org/tests.json"}, exitInvalid},
		{[]string{writeTemp(t, "bad.json", `{"Rules": [{"Name": "x", "Effect": "ALLOW", "NotIpRange": ["10.0.0.0/8"]}]}`)}, exitInvalid},
		{[]string{writeTemp(t, "bad.json", `[1]`)}, exitInvalid},
		{[]string{filepath.Join(t.TempDir(), "missing.json")}, exitFailure},
	} {
		if code, out, errs := runCLI(t, "", append([]string{"fmt"}, tc.args...)...); code != tc.code {
			t.Errorf("fmt %v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, errs)
		}
	}
}

// Formatting changes no answer: the formatted rules are equivalent to the
// original for every request (analysis.Diff), and so is the role.
func TestFmtPreservesMeaning(t *testing.T) {
	for _, file := range []string{exRules, "testdata/rules-iso.json", careless, proposed} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := canonical(data)
		if err != nil {
			t.Fatal(err)
		}
		checkSameRules(t, data, out)
	}
	data, err := os.ReadFile("../../examples/org/role.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := canonical(data)
	if err != nil {
		t.Fatal(err)
	}
	a, err1 := impersonation.DecodeRole(data)
	b, err2 := impersonation.DecodeRole(out)
	if err1 != nil || err2 != nil || a.Name != b.Name || len(a.Rules) != len(b.Rules) || a.DateCreated != b.DateCreated {
		t.Errorf("role changed: %+v / %+v (%v %v)", a, b, err1, err2)
	}
}

func checkSameRules(t testing.TB, before, after []byte) {
	t.Helper()
	x, err := accessctl.DecodeRules(before)
	if err != nil {
		t.Fatal(err)
	}
	y, err := accessctl.DecodeRules(after)
	if err != nil {
		t.Fatalf("formatted rules do not decode: %v\n%s", err, after)
	}
	res, err := analysis.Diff(context.Background(), x, y, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != analysis.Equivalent || len(x) != len(y) {
		t.Fatalf("formatting changed the rules: %v, %d → %d rules", res.Verdict, len(x), len(y))
	}
	byName := map[string]accessctl.Rule{}
	for _, r := range x {
		byName[r.Name] = r
	}
	for _, r := range y {
		o := byName[r.Name]
		if o.Description != r.Description || o.DateCreated != r.DateCreated || o.DateModified != r.DateModified ||
			len(o.IpRanges)+len(o.NotIpRanges)+len(o.UserIds) != len(r.IpRanges)+len(r.NotIpRanges)+len(r.UserIds) {
			t.Fatalf("rule %s changed: %+v → %+v", r.Name, o, r)
		}
	}
}

// FuzzCanonical: any input is formatted or refused with a typed error, never
// a panic; formatted output is canonical (a fixed point) and, for rules,
// equivalent to the input.
func FuzzCanonical(f *testing.F) {
	for _, file := range []string{exRules, exUsers, exRoles, "../../examples/org/role.json", "testdata/rules-iso.json", careless} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		out, err := canonical(data)
		if err != nil {
			if policy.CodeOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := canonical(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not a fixed point (%v):\n%s\n%s", err, out, again)
		}
		if _, err := accessctl.DecodeRules(data); err == nil {
			if _, err := accessctl.DecodeRules(out); err == nil {
				checkSameRules(t, data, out)
			}
		}
	})
}
