package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/wmpolicy/wmpolicy/policy"
)

// maxValue bounds one batch input value (SEMANTICS D5); a longer one is
// answered with an error and skipped without being held.
const maxValue = 1 << 20

// valueReader splits a stream into JSON values: one per line (JSON Lines),
// or pretty-printed over many lines, as the AWS CLI and jq print them. Blank
// lines and whitespace between values are skipped. A value that starts with {
// or [ ends where its brackets balance (outside strings); any other value ends
// at the end of its line. Recovery from a malformed value: a line break inside
// a string (JSON has none), or a line that starts with { or [ in its first
// column while an object is open (the nested lines of pretty-printed JSON are
// indented), ends the value there, so one missing brace costs one answer, not
// the rest of the stream. The values are not validated: the decoder does that.
type valueReader struct {
	r *bufio.Reader
}

// next returns the next value, or io.EOF after the last. tooLong reports a
// value longer than maxValue: its bytes were skipped, and v is nil.
func (vr *valueReader) next() (v []byte, tooLong bool, err error) {
	var (
		buf        []byte
		depth      int
		inString   bool
		escaped    bool
		started    bool
		structured bool
		lineStart  = true
		size       int
	)
	keep := func(c byte) {
		size++
		if size > maxValue {
			tooLong, buf = true, nil
		} else {
			buf = append(buf, c)
		}
	}
	done := func() ([]byte, bool, error) {
		if tooLong {
			return nil, true, nil
		}
		return buf, false, nil
	}
	for {
		c, err := vr.r.ReadByte()
		if err == io.EOF {
			if started {
				return done()
			}
			return nil, false, io.EOF
		}
		if err != nil {
			return nil, false, err
		}
		if !started {
			switch c {
			case ' ', '\t', '\r', '\n':
				lineStart = c == '\n'
				continue
			}
			started, structured = true, c == '{' || c == '['
		} else if c == '\n' {
			if !structured || inString {
				return done()
			}
			lineStart = true
			keep(c)
			continue
		} else if lineStart && depth > 0 && (c == '{' || c == '[') {
			// A new value in the first column while one is open: the open
			// one is truncated. Leave c for the next call.
			vr.r.UnreadByte()
			return done()
		}
		if c != ' ' && c != '\t' && c != '\r' {
			lineStart = false
		}
		keep(c)
		if !structured {
			continue
		}
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth <= 0 {
				return done()
			}
		}
	}
}

// batch is the loop of the batch modes: every input value gets exactly one
// output line, answer's value or, for a value longer than maxValue, an error in
// the AWS shape. It answers every value, then reports whether any answer was
// an error (invalid), so that the verb can exit non-zero; err is an I/O error.
func batch(stdin io.Reader, stdout io.Writer, answer func(v []byte) any) (invalid bool, err error) {
	vr := valueReader{r: bufio.NewReaderSize(stdin, 64<<10)}
	w := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		v, tooLong, err := vr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			w.Flush()
			return invalid, fmt.Errorf("reading standard input: %w", err)
		}
		var out any
		if tooLong {
			out = errorOutput{Type: policy.ValidationException, Message: fmt.Sprintf("input value longer than %d bytes", maxValue)}
		} else {
			out = answer(v)
		}
		if _, ok := out.(errorOutput); ok {
			invalid = true
		}
		if err := enc.Encode(out); err != nil {
			return invalid, fmt.Errorf("writing standard output: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return invalid, fmt.Errorf("writing standard output: %w", err)
	}
	return invalid, nil
}
