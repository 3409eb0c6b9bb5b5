package main

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

func stripSpace(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, b)
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
