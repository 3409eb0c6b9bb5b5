package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

// 'wmpolicy org export' and 'wmpolicy org import': an organization out of
// and into a state directory as the AWS CLI's output files (issue 14).

// maxExportFile bounds each file import reads, and maxExportFiles their count.
const (
	maxExportFile  = 64 << 20
	maxExportFiles = 1000
)

func cmdOrgExport(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const prefix = "wmpolicy org export"
	fs := newVerbFlags(prefix, stderr)
	state := fs.String("state", "", "the state `DIR` (required)")
	storeFlag(fs, state)
	orgID := fs.String("org", "", "the organization `ID` (m-…, required)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 || *orgID == "" {
		fmt.Fprintf(stderr, "%s: usage: wmpolicy org export --state DIR --org ID OUTDIR\n", prefix)
		return exitInvalid
	}
	out := pos[0]
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		fmt.Fprintf(stderr, "%s: %s is not empty: export into a new or empty directory\n", prefix, out)
		return exitInvalid
	}
	s, prob := openState(*state, false, true)
	if prob != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, prob.err)
		return prob.code
	}
	defer s.Close()
	e, err := s.Export(*orgID)
	if err != nil {
		printAPIError(stderr, prefix, err)
		return exitInvalid
	}
	files, err := e.Files()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitFailure
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitFailure
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
			return exitFailure
		}
	}
	fmt.Fprintf(stdout, "exported %s to %s: %d files\n", *orgID, out, len(names))
	return 0
}

func cmdOrgImport(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const prefix = "wmpolicy org import"
	fs := newVerbFlags(prefix, stderr)
	state := fs.String("state", "", "the state `DIR` (required; created when missing)")
	storeFlag(fs, state)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: usage: wmpolicy org import --state DIR INDIR\n", prefix)
		return exitInvalid
	}
	entries, err := os.ReadDir(pos[0])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitFailure
	}
	if len(entries) > maxExportFiles {
		fmt.Fprintf(stderr, "%s: %s holds %d files; an export holds at most %d\n", prefix, pos[0], len(entries), maxExportFiles)
		return exitInvalid
	}
	files := map[string][]byte{}
	for _, ent := range entries {
		path := filepath.Join(pos[0], ent.Name())
		if !ent.Type().IsRegular() {
			fmt.Fprintf(stderr, "%s: %s: not a regular file\n", prefix, path)
			return exitInvalid
		}
		if info, err := ent.Info(); err == nil && info.Size() > maxExportFile {
			fmt.Fprintf(stderr, "%s: %s: larger than %d bytes\n", prefix, path, maxExportFile)
			return exitInvalid
		}
		data, prob := readFile(path)
		if prob != nil {
			fmt.Fprintf(stderr, "%s: %v\n", prefix, prob.err)
			return prob.code
		}
		files[ent.Name()] = data
	}
	e, err := org.ParseExport(files)
	if err != nil {
		printAPIError(stderr, prefix, err)
		return exitInvalid
	}
	s, prob := openState(*state, true, false)
	if prob != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, prob.err)
		return prob.code
	}
	defer s.Close()
	out, err := s.ImportOrganization(context.Background(), e)
	if err != nil {
		printAPIError(stderr, prefix, err)
		if policy.CodeOf(err) != "" {
			return exitInvalid
		}
		return exitFailure
	}
	if err := writeJSON(stdout, out, "    "); err != nil {
		return exitFailure
	}
	return 0
}

// printAPIError prints each problem of err on its own line.
func printAPIError(w io.Writer, prefix string, err error) {
	errs := policy.Errors(err)
	if len(errs) == 0 {
		fmt.Fprintf(w, "%s: %v\n", prefix, err)
		return
	}
	for _, e := range errs {
		fmt.Fprintf(w, "%s: %s\n", prefix, e.Error())
	}
}
