package main

import (
	"os"
	"strings"
	"testing"
)

// The usage texts are generated from the verb registrations and are what
// they were when three hand-written copies held them: 'wmpolicy help',
// 'wmpolicy token help' and 'wmpolicy org help' print the files in
// testdata/usage byte for byte (regenerate them with
// 'go run ./cmd/wmpolicy help > cmd/wmpolicy/testdata/usage/help.txt' after a
// deliberate change).
func TestUsageGenerated(t *testing.T) {
	for _, tc := range []struct {
		args []string
		file string
	}{
		{[]string{"help"}, "help.txt"},
		{[]string{"token", "help"}, "token.txt"},
		{[]string{"org", "help"}, "org.txt"},
	} {
		want, err := os.ReadFile("testdata/usage/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		code, out, _ := runCLI(t, "", tc.args...)
		if code != 0 || out != string(want) {
			t.Errorf("%v: exit %d, usage differs from testdata/usage/%s:\n%s", tc.args, code, tc.file, out)
		}
		// No arguments: the same usage, on stderr, exit 3.
		code, _, errOut := runCLI(t, "", tc.args[:len(tc.args)-1]...)
		if code != exitInvalid || errOut != string(want) {
			t.Errorf("%v without a verb: exit %d\n%s", tc.args[:len(tc.args)-1], code, errOut)
		}
	}
}

// Every registered verb is one entry: its name is unique in its set, it is
// listed in its set's usage, and the dispatcher runs it (its --help exits 0
// instead of "unknown command").
func TestEveryVerbRegisteredOnce(t *testing.T) {
	for _, set := range []*verbSet{topVerbs, tokenVerbs, orgVerbs} {
		usage := set.usage()
		seen := map[string]bool{}
		for _, v := range set.list {
			for _, name := range append([]string{v.name}, v.aliases...) {
				if seen[name] {
					t.Errorf("%s: %q registered twice", set.prefix, name)
				}
				seen[name] = true
			}
			if (v.run == nil) == (v.subs == nil) {
				t.Errorf("%s %s: want exactly one of run and subs", set.prefix, v.name)
			}
			if len(v.synopsis) == 0 && v.subs == nil && v.name != "version" {
				t.Errorf("%s %s: no synopsis, so not listed in the usage", set.prefix, v.name)
			}
			if l := set.lines(v); !strings.Contains(usage, l) {
				t.Errorf("%s usage lacks %q", set.prefix, l)
			}
			args := strings.Fields(strings.TrimPrefix(set.prefix, "wmpolicy"))
			args = append(args, v.name, "--help")
			if v.subs != nil {
				args[len(args)-1] = "help"
			}
			code, out, errOut := runCLI(t, "", args...)
			if code != 0 || out == "" || strings.Contains(errOut, "unknown") {
				t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
			}
		}
	}
}

// main.go's doc comment is short and points at the generated usage instead
// of copying it.
func TestMainDocPointsAtHelp(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src[:strings.Index(string(src), "package main")])
	if !strings.Contains(doc, "'wmpolicy help'") || strings.Count(doc, "\n") > 12 || strings.Contains(doc, "--rules") {
		t.Errorf("main.go's doc comment should be short and point at 'wmpolicy help':\n%s", doc)
	}
}
