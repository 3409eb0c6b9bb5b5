package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version describes the running binary from its build information: the
// module version ("(devel)" for a build inside the repository, the tag for
// 'go install …@vX.Y.Z'), the VCS revision and whether the tree was modified,
// and the Go version.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "wmpolicy (no build information)"
	}
	v := "wmpolicy " + bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev
		if modified == "true" {
			v += ", modified"
		}
		v += ")"
	}
	return v + " " + bi.GoVersion
}

func cmdVersion(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := newVerbFlags("version", stderr)
	if !parseFlagsOnly(fs, args, "wmpolicy version", stderr) {
		return exitInvalid
	}
	if _, err := fmt.Fprintln(stdout, version()); err != nil {
		fmt.Fprintf(stderr, "wmpolicy version: writing standard output: %v\n", err)
		return exitFailure
	}
	return 0
}
