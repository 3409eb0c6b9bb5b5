package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultMaxInput is the default cap on one input file or standard input
// (SEMANTICS D5): far above any WorkMail organization's output (10 rules of
// 2,048 ranges are about 60 KB; a 100,000-user list-users about 30 MB), far
// below what a shared machine can hold many times over.
const defaultMaxInput = 64 << 20

// session is the state of one run: where "-" reads from, where help goes, and
// the input cap. run resets it; verbs reach it through cli.
type session struct {
	stdin     io.Reader
	stdout    io.Writer
	stdinUsed string // the input that read standard input, "" until one has
	maxInput  int64  // --max-input-bytes
	helped    bool   // a verb printed its help for -h/--help: exit 0
}

var cli = &session{stdin: os.Stdin, stdout: os.Stdout, maxInput: defaultMaxInput}

// byteSize is the --max-input-bytes flag: a positive number of bytes, with an
// optional K, M or G suffix (powers of 1024).
type byteSize struct{ n *int64 }

func (b byteSize) String() string {
	if b.n == nil {
		return ""
	}
	return strconv.FormatInt(*b.n, 10)
}

func (b byteSize) Set(s string) error {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return errors.New("want a positive number of bytes, optionally with K, M or G")
	}
	*b.n = n * mult
	return nil
}

// errTooLarge is the error of an input over the cap.
type errTooLarge struct {
	name  string
	limit int64
}

func (e *errTooLarge) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes, the input limit: raise it with --max-input-bytes if this is really the input", e.name, e.limit)
}

// readFile reads one input: the named file, or standard input for "-" (once
// per run: two inputs cannot both be standard input). At most cli.maxInput
// bytes are read, whatever the input is — a regular file, a pipe, a device
// such as /dev/zero —, so memory stays bounded (SEMANTICS D5). A failure to
// read is an I/O problem (exit 1, printed as the operating system's error),
// never an AWS error code; an input over the cap is exit 3.
func readFile(name string) ([]byte, *problem) {
	var r io.Reader
	display := name
	if name == "-" {
		if cli.stdinUsed != "" {
			return nil, &problem{err: fmt.Errorf("standard input is already read for %s: at most one input may be \"-\"", cli.stdinUsed), code: exitInvalid}
		}
		cli.stdinUsed = "an earlier input"
		r, display = cli.stdin, "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &problem{err: err, code: exitFailure}
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, &problem{err: err, code: exitFailure}
		}
		if fi.IsDir() {
			return nil, &problem{err: fmt.Errorf("%s is a directory, not a JSON file", quoteText(name)), code: exitFailure}
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, cli.maxInput+1))
	if err != nil {
		return nil, &problem{err: fmt.Errorf("reading %s: %w", quoteText(display), err), code: exitFailure}
	}
	if int64(len(data)) > cli.maxInput {
		return nil, &problem{err: &errTooLarge{name: quoteText(display), limit: cli.maxInput}, code: exitInvalid}
	}
	return data, nil
}

// helpRequested reports whether args ask for help (-h, -help, --help) before
// any "--".
func helpRequested(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// showHelp prints fs's usage to standard output and marks the run as helped,
// so that it exits 0.
func showHelp(fs *flag.FlagSet) {
	out := fs.Output()
	fs.SetOutput(cli.stdout)
	if fs.Usage != nil {
		fs.Usage()
	} else {
		fs.PrintDefaults()
	}
	fs.SetOutput(out)
	cli.helped = true
}

// quoteText returns s for a line of text output: as it is when every rune is
// printable (spaces included), otherwise quoted with Go escapes, so that a
// user-supplied ID cannot put terminal escape sequences, newlines or invalid
// UTF-8 on the operator's terminal.
func quoteText(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ') {
			return strconv.Quote(s)
		}
	}
	return s
}
