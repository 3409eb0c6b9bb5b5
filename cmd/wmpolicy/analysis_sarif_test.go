package main

import (
	"encoding/json"
	"os"
	"testing"
)

func TestJSONPointerAndLocations(t *testing.T) {
	for in, want := range map[string]string{
		"Rules[3].IpRanges[17]": "/Rules/3/IpRanges/17",
		"Rules[0]":              "/Rules/0",
		"a~b.c/d":               "/a~0b/c~1d",
	} {
		if got := jsonPointer(in); got != want {
			t.Errorf("jsonPointer(%q) = %q, want %q", in, got, want)
		}
	}
	data := []byte("{\n  \"Rules\": [\n    {\"Name\": \"x\", \"IpRanges\": [\"10.0.0.0/8\", \"€\\u00e9\"]}\n  ]\n}")
	locs := jsonLocations(data)
	for path, want := range map[string][2]int{
		"Rules":                {2, 3},
		"Rules[0]":             {3, 5},
		"Rules[0].Name":        {3, 6},
		"Rules[0].IpRanges":    {3, 19},
		"Rules[0].IpRanges[1]": {3, 46},
	} {
		off, ok := locs[path]
		if !ok {
			t.Errorf("%s not located in %v", path, locs)
			continue
		}
		if l, c := lineColumn(data, off); l != want[0] || c != want[1] {
			t.Errorf("%s at %d:%d, want %d:%d", path, l, c, want[0], want[1])
		}
	}
	if p := parentPath("Rules[3].IpRanges[17]"); p != "Rules[3].IpRanges" {
		t.Errorf("parentPath: %q", p)
	}
}

// FuzzJSONLocations: any input is read without a panic, and on valid JSON
// every located offset is inside the document.
func FuzzJSONLocations(f *testing.F) {
	for _, name := range []string{exRules, careless, proposed} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"a":[1,{"b\"":null}],"c":"\u00e9"}`))
	f.Add([]byte(`[[[[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		locs := jsonLocations(data)
		if !json.Valid(data) {
			return
		}
		for p, off := range locs {
			if off < 0 || off >= len(data) {
				t.Fatalf("%s at %d, outside %d bytes", p, off, len(data))
			}
			lineColumn(data, off)
		}
	})
}
