package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// stripSpace drops JSON's whitespace bytes. It works on bytes, not runes:
// bytes.Map would turn each invalid UTF-8 byte into U+FFFD, so that values
// "\xd5" and "\xbd" (which join into a valid rune) would not compare equal
// to the input "\xd5\n \xbd".
func stripSpace(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		out = append(out, c)
	}
	return out
}

// FuzzValueReader: the batch modes' splitter of JSON value streams never
// panics, always ends, never returns an empty value, and loses no byte but
// whitespace: the values' bytes are the input's, in order.
func FuzzValueReader(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n{\n  \"b\": [1, {\"c\": \"}\"}]\n}\n"))
	f.Add([]byte("not json\n{\"a\":\n{\"b\":2}\n\"str\\\"ing\"  [1]]"))
	f.Add([]byte("{\"a\":\"unterminated\n{\"b\":1}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		vr := valueReader{r: bufio.NewReaderSize(bytes.NewReader(data), 16)}
		var got []byte
		for n := 0; ; n++ {
			if n > len(data)+1 {
				t.Fatal("more values than bytes")
			}
			v, tooLong, err := vr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if tooLong {
				return // skipped bytes: nothing to compare
			}
			if len(v) == 0 {
				t.Fatal("empty value")
			}
			got = append(got, v...)
		}
		if !bytes.Equal(stripSpace(got), stripSpace(data)) {
			t.Fatalf("values %q lose bytes of %q", got, data)
		}
	})
}
