package accessctl_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The hot path's shape is the compiler's to keep, not a copy's: this test reads
// what the compiler does with it (as Go's net/netip inlining_test.go and
// bart's zz-inliner_test.go do) and fails when a function the fast path
// relies on stops inlining, or a leaf function starts calling, growing a
// stack check, or (for the frameless ones) a frame. When it fails after a
// change, either restore the property or measure the cost and update the
// lists with the numbers in the commit.

// mustInline are the functions each package's hot path inlines, by the
// compiler's own name (as in "can inline NAME").
var mustInline = map[string][]string{
	"github.com/wmpolicy/wmpolicy/accessctl": {
		"Action.Valid",
		"(*Policy).principalKey", // the one choice of a principal's table, inline in Evaluate and Effect
		"rowOf",
		"addr4",
		"(*Policy).and1",
		"(*Policy).decide1",
		"(*Policy).appendNames",
		"(*Policy).index",
		"bitSet",
		"outcome",
	},
	"github.com/wmpolicy/wmpolicy/cidr": {
		"(*Map).Get", // the address lookup, inline in Evaluate
	},
	"github.com/wmpolicy/wmpolicy/internal/strtab": {
		"hashEnds",
		"mum",
		"load64",
		"load32",
		"load8", // Lookup's short keys
	},
}

// mustInlineInto are calls that must be inlined at their call sites in
// Evaluate's file: "inlining call to NAME" at least once in that file.
var mustInlineInto = map[string][]string{
	"accessctl/eval.go": {
		"netip.Addr.Is4",
		"netip.Addr.As4",
		"Action.Valid",
		"(*Policy).principalKey",
		"rowOf",
		"addr4",
		"cidr.(*Map).Get",
		"(*Policy).decide1",
		"(*Policy).and1",
	},
}

// leaf are functions that must call nothing but the runtime's panics (which
// never return) and run without a stack check ("nosplit" in the compiler's
// listing); frameless ones must also keep no locals (locals=0x0).
var leaf = []struct {
	pkg, fn   string
	frameless bool
}{
	// The principal lookup: called from Evaluate on every request, it costs no
	// more than its own instructions (docs/performance.md).
	{"github.com/wmpolicy/wmpolicy/internal/strtab", "(*Table).Lookup", true},
	// The one-pass hit walk of policies of more than 64 rules: its loops keep
	// everything in registers.
	{"github.com/wmpolicy/wmpolicy/accessctl", "collectHits", false},
	{"github.com/wmpolicy/wmpolicy/cidr", "(*Map).Get", false},
}

// goTool returns the go command, or skips (fails with CI set) without one.
func goTool(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the go command is needed to read the compiler's output: %v", err)
		}
		t.Skipf("no go command on PATH (%v): cannot read the compiler's output", err)
	}
	return goBin
}

// compilerOutput runs go build with gcflags on pkgs and returns what the
// compiler printed (the go command replays it from its cache, too).
func compilerOutput(t *testing.T, gcflags string, pkgs ...string) []byte {
	t.Helper()
	args := append([]string{"build", "-gcflags=" + gcflags}, pkgs...)
	cmd := exec.Command(goTool(t), args...)
	cmd.Dir = ".." // the module's root: the compiler names files from there
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestHotPathInlining: the functions of mustInline inline, and Evaluate's
// calls of mustInlineInto are inlined where they are made.
func TestHotPathInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	out := compilerOutput(t, "-m", keys(mustInline)...)
	canInline := map[string]map[string]bool{} // package directory suffix → names
	inlinedIn := map[string]map[string]bool{} // file → names
	re := regexp.MustCompile(`^(\S+?\.go):\d+:\d+: (can inline|inlining call to) (.+?)( with cost .*| as: .*)?$`)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		file := strings.TrimPrefix(m[1], "./")
		dir := file[:max(0, strings.LastIndex(file, "/"))]
		set := canInline
		key := dir
		if m[2] == "inlining call to" {
			set, key = inlinedIn, file
		}
		if set[key] == nil {
			set[key] = map[string]bool{}
		}
		set[key][m[3]] = true
	}
	for pkg, fns := range mustInline {
		dir := strings.TrimPrefix(pkg, "github.com/wmpolicy/wmpolicy/")
		var got map[string]bool
		for d, names := range canInline {
			if d == dir || strings.HasSuffix(d, "/"+dir) {
				got = names
			}
		}
		for _, fn := range fns {
			if !got[fn] {
				t.Errorf("%s: %s no longer inlines (go build -gcflags=-m=2 %s says why)", pkg, fn, pkg)
			}
		}
	}
	for file, fns := range mustInlineInto {
		var got map[string]bool
		for f, names := range inlinedIn {
			if f == file || strings.HasSuffix(f, "/"+file) {
				got = names
			}
		}
		for _, fn := range fns {
			if !got[fn] {
				t.Errorf("%s: the call to %s is no longer inlined", file, fn)
			}
		}
	}
}

// TestHotPathLeaves: the functions of leaf call nothing that returns, need
// no stack check, and (frameless) keep no frame.
func TestHotPathLeaves(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	pkgs := map[string]bool{}
	for _, l := range leaf {
		pkgs[l.pkg] = true
	}
	funcs := listing(t, keys(pkgs)...)
	for _, l := range leaf {
		f := funcs[l.pkg+"."+l.fn]
		if f == nil {
			t.Errorf("%s.%s: not in the compiler's listing", l.pkg, l.fn)
			continue
		}
		for _, c := range f.calls {
			if !strings.HasPrefix(c, "runtime.panic") {
				t.Errorf("%s.%s calls %s: no longer a leaf function", l.pkg, l.fn, c)
			}
		}
		if !strings.Contains(f.header, " nosplit ") {
			t.Errorf("%s.%s has a stack check: %s", l.pkg, l.fn, f.header)
		}
		if l.frameless && !strings.Contains(f.header, " locals=0x0 ") {
			t.Errorf("%s.%s has a frame: %s", l.pkg, l.fn, f.header)
		}
	}
}

// fnText is one function of the compiler's assembly listing.
type fnText struct {
	header string   // "pkg.fn STEXT [flags] size=… args=… locals=…"
	calls  []string // the targets of its CALL instructions
}

// listing runs go build -gcflags=-S on pkgs and returns their functions by
// full name.
func listing(t *testing.T, pkgs ...string) map[string]*fnText {
	t.Helper()
	out := compilerOutput(t, "-S", pkgs...)
	// The listing: a header line "pkg.fn STEXT [flags] size=… args=… locals=…"
	// then the function's instructions, up to the next header.
	funcs := map[string]*fnText{}
	var cur *fnText
	call := regexp.MustCompile(`\tCALL\t(\S+)`)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if name, _, ok := strings.Cut(line, " STEXT"); ok && !strings.HasPrefix(line, "\t") {
			cur = &fnText{header: line}
			funcs[name] = cur
			continue
		}
		if m := call.FindStringSubmatch(line); m != nil && cur != nil {
			cur.calls = append(cur.calls, m[1])
		}
	}
	return funcs
}

// fastPaths are the functions that answer the common request, with the
// calls each must make (the frameless principal lookup) and the functions
// they must not call, that is must inline there: TestHotPathInlining finds
// "inlining call to" anywhere in the file, this finds it in each function.
var fastPaths = []struct {
	fn          string
	mustCall    []string
	mustNotCall []string
}{
	{"(*Policy).Evaluate", []string{"strtab.(*Table).Lookup"},
		[]string{"principalKey", "rowOf", "addr4", "(*Map).Get", "decide1", "and1", "Action.Valid", "Addr.Is4", "Addr.As4"}},
	{"(*Policy).Effect", []string{"strtab.(*Table).Lookup"},
		[]string{"principalKey", "rowOf", "addr4", "(*Map).Get", "and1", "Action.Valid", "Addr.Is4", "Addr.As4"}},
}

// TestHotPathCalls: Evaluate and Effect call the principal table's Lookup
// themselves and inline everything else of their fast path.
func TestHotPathCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	const pkg = "github.com/wmpolicy/wmpolicy/accessctl"
	funcs := listing(t, pkg)
	for _, fp := range fastPaths {
		f := funcs[pkg+"."+fp.fn]
		if f == nil {
			t.Errorf("%s: not in the compiler's listing", fp.fn)
			continue
		}
		for _, want := range fp.mustCall {
			if !slices.ContainsFunc(f.calls, func(c string) bool { return strings.Contains(c, want) }) {
				t.Errorf("%s no longer calls %s (calls %v)", fp.fn, want, f.calls)
			}
		}
		for _, c := range f.calls {
			for _, bad := range fp.mustNotCall {
				if strings.Contains(c, bad) {
					t.Errorf("%s calls %s: no longer inlined there", fp.fn, c)
				}
			}
		}
	}
}
