package semantics

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// root is the repository's root, relative to this package's directory.
const root = "../.."

// sources returns the repository's files whose names end in one of exts,
// relative to root, skipping version-control and testdata directories.
func sources(t *testing.T, exts ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		for _, e := range exts {
			if strings.HasSuffix(path, e) {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(root, path)
				out[rel] = b
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func contract(t *testing.T) (rules, pending []ID) {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "SEMANTICS.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules, pending = Rules(doc)
	if len(rules) < 40 {
		t.Fatalf("docs/SEMANTICS.md defines %d rules; the parser has lost track of its format", len(rules))
	}
	return rules, pending
}

// TestEveryRuleIsProven: every rule of docs/SEMANTICS.md is cited by at least
// one _test.go file, unless the document lists it as not yet proven; and a
// rule listed as not yet proven that a test now cites must be struck from the
// list.
func TestEveryRuleIsProven(t *testing.T) {
	rules, pending := contract(t)
	citedBy := map[ID][]string{}
	for name, src := range sources(t, "_test.go") {
		if strings.HasPrefix(name, filepath.Join("internal", "semantics")) {
			continue // this package's own examples cite made-up rules
		}
		for _, id := range Citations(src) {
			citedBy[id] = append(citedBy[id], name)
		}
	}
	isPending := map[ID]bool{}
	for _, id := range pending {
		isPending[id] = true
	}
	defined := map[ID]bool{}
	for _, id := range rules {
		defined[id] = true
	}
	for _, id := range pending {
		if !defined[id] {
			t.Errorf("docs/SEMANTICS.md lists %s as not yet proven, but defines no rule %s", id, id)
		}
	}
	var unproven []string
	for _, id := range rules {
		switch {
		case len(citedBy[id]) == 0 && !isPending[id]:
			unproven = append(unproven, string(id))
		case len(citedBy[id]) > 0 && isPending[id]:
			sort.Strings(citedBy[id])
			t.Errorf("%s is listed as not yet proven in docs/SEMANTICS.md, but %s cite it: strike it from the list", id, strings.Join(citedBy[id], ", "))
		}
	}
	if len(unproven) > 0 {
		t.Errorf("no test cites these rules of docs/SEMANTICS.md (name a test TestSemanticsX_… or comment // SEMANTICS X in it): %s", strings.Join(unproven, " "))
	}
}

// parenRule is a bare rule number in parentheses, as messages and docs cite
// rules: "(A4)", "(A18, B2)".
var parenRule = regexp.MustCompile(`\(([A-G][0-9]{1,2}[a-z]?)(?:[,;] ([A-G][0-9]{1,2}[a-z]?))*\)`)

// TestEveryCitationExists: every rule the code, its tests and the Markdown
// documentation cite ("SEMANTICS A9", "TestSemanticsA9_…", and in Go source
// "(A9)") is defined in docs/SEMANTICS.md.
func TestEveryCitationExists(t *testing.T) {
	rules, _ := contract(t)
	defined := map[ID]bool{}
	for _, id := range rules {
		defined[id] = true
	}
	files := sources(t, ".go", ".md")
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasPrefix(name, filepath.Join("internal", "semantics")) {
			continue
		}
		src := files[name]
		ids := Citations(src)
		if strings.HasSuffix(name, ".go") {
			for _, m := range parenRule.FindAllSubmatch(src, -1) {
				for _, g := range m[1:] {
					if len(g) > 0 {
						ids = append(ids, ID(g))
					}
				}
			}
		}
		for _, id := range ids {
			if !defined[id] {
				t.Errorf("%s cites %s, which docs/SEMANTICS.md does not define", name, id)
			}
		}
	}
}

// TestNoReferenceOutsideTheRepository: no file points outside the checkout
// for the contract or its fixtures (the contract used to live beside it, in
// shared/).
func TestNoReferenceOutsideTheRepository(t *testing.T) {
	bad := regexp.MustCompile(`\.\./shared|/work/shared|\.\./\.\./\.\./`)
	for name, src := range sources(t, ".go", ".md", ".json", "run") {
		if strings.HasPrefix(name, filepath.Join("internal", "semantics")) {
			continue
		}
		if loc := bad.FindIndex(src); loc != nil {
			line := 1 + strings.Count(string(src[:loc[0]]), "\n")
			t.Errorf("%s:%d refers outside the repository: %q", name, line, src[loc[0]:loc[1]])
		}
	}
}

// TestMarkdownLinksResolve: every relative link of the repository's
// Markdown files names a file or directory inside the repository.
func TestMarkdownLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s#]+)(#[^)]*)?\)`)
	for name, src := range sources(t, ".md") {
		for _, m := range link.FindAllSubmatch(src, -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			p := filepath.Join(filepath.Dir(filepath.Join(root, name)), target)
			rel, err := filepath.Rel(root, p)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", name, target)
				continue
			}
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s links to %s, which does not exist", name, target)
			}
		}
	}
}
