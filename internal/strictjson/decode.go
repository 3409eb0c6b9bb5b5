// Package strictjson is the strict JSON decoder behind policy.DecodeStrict
// (SEMANTICS D2, A13): unknown, duplicated and wrong-case keys, values of the
// wrong kind, invalid UTF-8 and syntax errors are problems with the path of the
// value in API names, never silently dropped or replaced. The contract is
// policy.DecodeStrict's; this package returns [Problem]s so that it needs no
// error type of its own.
package strictjson

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/internal/apipath"
	"github.com/wmpolicy/wmpolicy/internal/suggest"
)

// Limits of [Decode].
const (
	// MaxDepth is the deepest nesting of JSON arrays and objects that Decode
	// accepts; deeper input is a problem, never a stack overflow.
	MaxDepth = 100

	// MaxErrors is the most problems Decode reports for one input. When there
	// are more, the list ends with one more problem saying so.
	MaxErrors = 100
)

// Problem is one thing wrong with the input: where (Path, in API names such
// as `Rules[3].NotIpRange`; "" for the whole input) and what (Message). Code
// is "" for a validation problem, or the code an UnmarshalJSON or
// UnmarshalText method's error carried (see [Decode]'s split).
type Problem struct {
	Code    string
	Path    string
	Message string
}

// Decode decodes the one JSON value in data into v, a non-nil pointer, with
// the rules documented on policy.DecodeStrict, and returns the problems found
// (nil on success; then *v holds the value, otherwise *v is untouched).
//
// split turns an error returned by an UnmarshalJSON or UnmarshalText method
// into problems whose Paths are relative to the value; Decode prefixes them
// with the value's path. A nil split, or one returning nothing, gives one
// problem with the error's text.
//
// Cost: time and memory linear in len(data), one pass, no recursion deeper
// than MaxDepth; per-type field tables are computed once and cached. Decode is
// safe for concurrent use and does not retain data (json.RawMessage values
// are copies).
func Decode(data []byte, v any, split func(error) []Problem) []Problem {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return []Problem{{Message: fmt.Sprintf("DecodeStrict needs a non-nil pointer, not %T", v)}}
	}
	t := rv.Type().Elem()
	ti := decTypeInfoOf(t)
	fresh := reflect.New(t).Elem()
	d := decState{data: data, split: split}
	d.top(fresh, ti)
	if len(d.errs) > 0 {
		return d.errs
	}
	rv.Elem().Set(fresh)
	return nil
}

// ---- type tables ----

// decKind classifies a Go type by how Decode fills it.
type decKind uint8

const (
	decUnsupported decKind = iota
	decString
	decBool
	decInt
	decUint
	decFloat
	decNumber // json.Number
	decStruct
	decMap
	decSlice
	decBytes // slice of uint8 kind: an array or a base64 string
	decPtr
	decAny // empty interface
	decRaw // json.RawMessage
	decUnmarshaler
	decText // encoding.TextUnmarshaler
)

// decTypeInfo is the cached decoding table of one Go type. It is immutable once
// published in decTypeCache.
type decTypeInfo struct {
	t       reflect.Type
	kind    decKind
	elem    *decTypeInfo // decPtr, decSlice, decBytes, decMap: the element type
	keyText bool         // decMap: the key type is an encoding.TextUnmarshaler
	fields  []decField   // decStruct, in Go field order
	byName  map[string]int
}

// decField is one JSON member of a struct type.
type decField struct {
	name   string // the JSON name
	index  []int  // reflect field index path (longer than 1 for promoted fields)
	typ    reflect.Type
	tagged bool // the name comes from a tag (for encoding/json's dominance rules)
	ti     *decTypeInfo
}

var (
	decTypeCache sync.Map   // reflect.Type -> *decTypeInfo, complete tables only
	decTypeMu    sync.Mutex // serialises building, so recursive types are built once

	decRawMessageType  = reflect.TypeFor[json.RawMessage]()
	decNumberType      = reflect.TypeFor[json.Number]()
	decUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	decTextType        = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decTypeInfoOf returns the table of t, building it (and the tables of every type
// it reaches) on first use.
func decTypeInfoOf(t reflect.Type) *decTypeInfo {
	if ti, ok := decTypeCache.Load(t); ok {
		return ti.(*decTypeInfo)
	}
	decTypeMu.Lock()
	defer decTypeMu.Unlock()
	pending := make(map[reflect.Type]*decTypeInfo)
	ti := decBuildTypeInfo(t, pending)
	for k, v := range pending {
		decTypeCache.Store(k, v)
	}
	return ti
}

// decBuildTypeInfo builds the table of t. Tables under construction are in
// pending, so that recursive types terminate; they are published only when all
// are complete.
func decBuildTypeInfo(t reflect.Type, pending map[reflect.Type]*decTypeInfo) *decTypeInfo {
	if ti, ok := decTypeCache.Load(t); ok {
		return ti.(*decTypeInfo)
	}
	if ti, ok := pending[t]; ok {
		return ti
	}
	ti := &decTypeInfo{t: t}
	pending[t] = ti
	notPtr := t.Kind() != reflect.Pointer
	switch {
	case t == decRawMessageType:
		ti.kind = decRaw
	case notPtr && reflect.PointerTo(t).Implements(decUnmarshalerType):
		ti.kind = decUnmarshaler
	case notPtr && reflect.PointerTo(t).Implements(decTextType):
		ti.kind = decText
	case t == decNumberType:
		ti.kind = decNumber
	default:
		switch t.Kind() {
		case reflect.String:
			ti.kind = decString
		case reflect.Bool:
			ti.kind = decBool
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			ti.kind = decInt
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			ti.kind = decUint
		case reflect.Float32, reflect.Float64:
			ti.kind = decFloat
		case reflect.Pointer:
			// A pointer type that leads only to pointers (type P *P) has no
			// value to decode into.
			e := t.Elem()
			for i := 0; e.Kind() == reflect.Pointer && e != t && i < 100; i++ {
				e = e.Elem()
			}
			if e.Kind() != reflect.Pointer {
				ti.kind = decPtr
				ti.elem = decBuildTypeInfo(t.Elem(), pending)
			}
		case reflect.Slice:
			ti.kind = decSlice
			if t.Elem().Kind() == reflect.Uint8 {
				ti.kind = decBytes
			}
			ti.elem = decBuildTypeInfo(t.Elem(), pending)
		case reflect.Map:
			kt := t.Key()
			switch {
			case reflect.PointerTo(kt).Implements(decTextType):
				ti.kind, ti.keyText = decMap, true
			case kt.Kind() == reflect.String:
				ti.kind = decMap
			}
			if ti.kind == decMap {
				ti.elem = decBuildTypeInfo(t.Elem(), pending)
			}
		case reflect.Interface:
			if t.NumMethod() == 0 {
				ti.kind = decAny
			}
		case reflect.Struct:
			ti.kind = decStruct
			ti.fields = decStructFields(t)
			ti.byName = make(map[string]int, len(ti.fields))
			for i := range ti.fields {
				f := &ti.fields[i]
				f.ti = decBuildTypeInfo(f.typ, pending)
				ti.byName[f.name] = i
			}
		}
	}
	return ti
}

// decStructFields lists the JSON members of struct type t exactly as
// encoding/json chooses them: exported fields, named by a valid tag name or the
// Go name, fields of untagged embedded structs promoted, and among fields of the
// same name the shallowest wins, then a tagged one; an unresolved tie hides them all.
func decStructFields(t reflect.Type) []decField {
	type todo struct {
		t     reflect.Type
		index []int
	}
	var fields []decField
	var current []todo
	next := []todo{{t: t}}
	var count map[reflect.Type]int
	nextCount := map[reflect.Type]int{}
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.t] {
				continue
			}
			visited[f.t] = true
			for i := range f.t.NumField() {
				sf := f.t.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				if !decValidTag(name) {
					name = ""
				}
				index := append(slices.Clip(f.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					tagged := name != ""
					if name == "" {
						name = sf.Name
					}
					fields = append(fields, decField{name: name, index: index, typ: sf.Type, tagged: tagged})
					if count[f.t] > 1 {
						// The embedding struct appears twice at this depth: add
						// the field twice so that the tie hides it.
						fields = append(fields, fields[len(fields)-1])
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, todo{t: ft, index: index})
				}
			}
		}
	}
	slices.SortFunc(fields, func(a, b decField) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for i := 0; i < len(fields); {
		n := 1
		for i+n < len(fields) && fields[i+n].name == fields[i].name {
			n++
		}
		group := fields[i : i+n]
		if n == 1 || len(group[0].index) != len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i += n
	}
	slices.SortFunc(out, func(a, b decField) int { return slices.Compare(a.index, b.index) })
	return slices.Clip(out)
}

// decValidTag reports whether s is a tag name encoding/json accepts.
func decValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// want names the JSON kind that type ti accepts, for "want X, got Y" messages.
func (ti *decTypeInfo) want() string {
	switch ti.kind {
	case decString, decText:
		return "string"
	case decBool:
		return "boolean"
	case decInt, decUint:
		return "integer"
	case decFloat, decNumber:
		return "number"
	case decStruct, decMap:
		return "object"
	case decSlice:
		return "array"
	case decBytes:
		return "array or base64 string"
	case decPtr:
		return ti.elem.want()
	}
	return "value"
}

// unknownField returns the message for key, which is not a member of struct ti,
// with a hint when a member differs only in case or by at most two edits.
func (ti *decTypeInfo) unknownField(key []byte) string {
	k := string(key)
	names := make([]string, len(ti.fields))
	for i := range ti.fields {
		names[i] = ti.fields[i].name
	}
	hint := suggest.Closest(k, names)
	if hint != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", decClip(k), hint)
	}
	return fmt.Sprintf("unknown field %q", decClip(k))
}

// decClip shortens s for a message or path (keys can be megabytes long).
func decClip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// ---- the decoder ----

// decSeg is one step of the path to the current value.
type decSeg struct {
	name   string // a member name, when index == decSegName
	index  int    // >= 0: an array index; decSegName; decSegRaw: the key is data[rs:re]
	rs, re int
}

const (
	decSegName = -1
	decSegRaw  = -2
)

// decState is the state of one Decode call.
type decState struct {
	data  []byte
	pos   int
	errs  []Problem
	split func(error) []Problem
	stop  bool // a syntax error, or too many errors: unwind
	depth int
	path  []decSeg
	buf   []byte // scratch for unescaped strings
}

func (d *decState) pushName(name string) {
	d.path = append(d.path, decSeg{name: name, index: decSegName})
}
func (d *decState) pushRaw(rs, re int) {
	d.path = append(d.path, decSeg{index: decSegRaw, rs: rs, re: re})
}
func (d *decState) pushIndex(i int) { d.path = append(d.path, decSeg{index: i}) }
func (d *decState) pop()            { d.path = d.path[:len(d.path)-1] }

// pathString renders the current path in API names.
func (d *decState) pathString() string {
	var b []byte
	for i, s := range d.path {
		switch s.index {
		case decSegName:
			b = decAppendName(b, s.name, i == 0)
		case decSegRaw:
			raw := d.data[s.rs:s.re]
			name := string(raw)
			if bytes.IndexByte(raw, '\\') >= 0 {
				// Display only: encoding/json's replacements are fine here.
				_ = json.Unmarshal(d.data[s.rs-1:s.re+1], &name)
			}
			b = decAppendName(b, name, i == 0)
		default:
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(s.index), 10)
			b = append(b, ']')
		}
	}
	return string(b)
}

// decAppendName appends a member name to a path: ".Name", or `["odd name"]`
// when the name is not a simple identifier.
func decAppendName(b []byte, name string, first bool) []byte {
	name = decClip(name)
	ident := name != ""
	for i := 0; i < len(name) && ident; i++ {
		c := name[i]
		ident = c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && (c == '-' || '0' <= c && c <= '9')
	}
	if !ident {
		b = append(b, '[')
		b = strconv.AppendQuote(b, name)
		return append(b, ']')
	}
	if !first {
		b = append(b, '.')
	}
	return append(b, name...)
}

// addErr records a ValidationException at the current path.
func (d *decState) addErr(msg string) {
	d.add(Problem{Path: d.pathString(), Message: msg})
}

// add records e, or stops when there are already MaxErrors errors.
func (d *decState) add(e Problem) {
	if d.stop {
		return
	}
	if len(d.errs) >= MaxErrors {
		d.errs = append(d.errs, Problem{Message: fmt.Sprintf("too many errors: stopped after %d", MaxErrors)})
		d.stop = true
		return
	}
	d.errs = append(d.errs, e)
}

// syntaxErr records the syntax error at offset off and stops decoding.
func (d *decState) syntaxErr(off int, what string) {
	d.addErr(fmt.Sprintf("invalid JSON at offset %d: %s", off, what))
	d.stop = true
}

// unexpected records a syntax error for the byte at off (or the end of input).
func (d *decState) unexpected(off int) {
	if off >= len(d.data) {
		d.syntaxErr(off, "unexpected end of input")
		return
	}
	r, size := utf8.DecodeRune(d.data[off:])
	switch {
	case r == utf8.RuneError && size <= 1:
		d.syntaxErr(off, fmt.Sprintf("invalid UTF-8 byte 0x%02x", d.data[off]))
	case r == '\uFEFF':
		d.syntaxErr(off, "unexpected byte order mark (U+FEFF)")
	default:
		d.syntaxErr(off, fmt.Sprintf("unexpected character %q", r))
	}
}

// userErr records an error returned by an UnmarshalJSON or UnmarshalText method,
// keeping its code and message and prefixing its path with the current path.
func (d *decState) userErr(err error) {
	path := d.pathString()
	var list []Problem
	if d.split != nil {
		list = d.split(err)
	}
	if len(list) == 0 {
		list = []Problem{{Message: err.Error()}}
	}
	for _, c := range list {
		c.Path = apipath.Join(path, c.Path)
		d.add(c)
	}
}

func (d *decState) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// enter notes one more level of nesting, failing beyond MaxDepth.
func (d *decState) enter() bool {
	d.depth++
	if d.depth > MaxDepth {
		d.syntaxErr(d.pos-1, fmt.Sprintf("nesting deeper than %d levels", MaxDepth))
		return false
	}
	return true
}

// top decodes the whole input into v.
func (d *decState) top(v reflect.Value, ti *decTypeInfo) {
	if len(d.data) == 0 {
		d.syntaxErr(0, "empty input")
		return
	}
	d.value(v, ti)
	if d.stop {
		return
	}
	d.skipWS()
	if d.pos < len(d.data) {
		d.syntaxErr(d.pos, "unexpected data after the top-level value")
	}
}

// decJSONKind names the kind of the JSON value starting with c, or "" when no
// value starts with c.
func decJSONKind(c byte) string {
	switch {
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == '-' || '0' <= c && c <= '9':
		return "number"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}
	return ""
}

// value decodes the value at d.pos into v, which has type ti.t and holds its
// zero value.
func (d *decState) value(v reflect.Value, ti *decTypeInfo) {
	if d.stop {
		return
	}
	d.skipWS()
	if d.pos >= len(d.data) {
		d.unexpected(d.pos)
		return
	}
	c := d.data[d.pos]
	jk := decJSONKind(c)
	switch jk {
	case "":
		d.unexpected(d.pos)
		return
	case "null":
		d.literal("null")
		return
	}
	switch ti.kind {
	case decString:
		if jk != "string" {
			d.mismatch(ti, jk)
			return
		}
		if b, ok := d.str(false); ok {
			v.SetString(string(b))
		}
	case decBool:
		if jk != "boolean" {
			d.mismatch(ti, jk)
			return
		}
		if c == 't' {
			v.SetBool(d.literal("true"))
		} else {
			d.literal("false")
		}
	case decInt, decUint, decFloat, decNumber:
		if jk == "string" && ti.kind == decNumber {
			if b, ok := d.str(false); ok {
				if !decIsNumber(b) {
					d.addErr(fmt.Sprintf("invalid number %q", decClip(string(b))))
					return
				}
				v.SetString(string(b))
			}
			return
		}
		if jk != "number" {
			d.mismatch(ti, jk)
			return
		}
		lit, ok := d.number()
		if !ok {
			return
		}
		d.setNumber(v, ti, lit)
	case decStruct:
		if jk != "object" {
			d.mismatch(ti, jk)
			return
		}
		d.object(v, ti)
	case decMap:
		if jk != "object" {
			d.mismatch(ti, jk)
			return
		}
		d.mapObject(v, ti)
	case decSlice, decBytes:
		if jk == "string" && ti.kind == decBytes {
			if b, ok := d.str(false); ok {
				dst := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
				n, err := base64.StdEncoding.Decode(dst, b)
				if err != nil {
					d.addErr("invalid base64 string")
					return
				}
				v.SetBytes(dst[:n])
			}
			return
		}
		if jk != "array" {
			d.mismatch(ti, jk)
			return
		}
		d.array(v, ti)
	case decPtr:
		p := reflect.New(ti.elem.t)
		d.value(p.Elem(), ti.elem)
		v.Set(p)
	case decAny:
		if x := d.generic(true); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case decRaw:
		start, n := d.pos, len(d.errs)
		d.skip()
		if len(d.errs) == n {
			v.SetBytes(bytes.Clone(d.data[start:d.pos]))
		}
	case decUnmarshaler:
		start, n := d.pos, len(d.errs)
		d.skip()
		if len(d.errs) == n {
			u := v.Addr().Interface().(json.Unmarshaler)
			if err := u.UnmarshalJSON(d.data[start:d.pos]); err != nil {
				d.userErr(err)
			}
		}
	case decText:
		if jk != "string" {
			d.mismatch(ti, jk)
			return
		}
		if b, ok := d.str(false); ok {
			u := v.Addr().Interface().(encoding.TextUnmarshaler)
			if err := u.UnmarshalText(b); err != nil {
				d.userErr(err)
			}
		}
	default:
		d.addErr(fmt.Sprintf("unsupported Go type %s", ti.t))
		d.skip()
	}
}

// mismatch reports a JSON value of kind jk where type ti wants another, and
// skips it. The report comes before any problem found inside the value, and is
// left out when the value turns out to be malformed: the syntax error says more.
func (d *decState) mismatch(ti *decTypeInfo, jk string) {
	e := Problem{Path: d.pathString(), Message: fmt.Sprintf("want %s, got %s", ti.want(), jk)}
	n := len(d.errs)
	d.skip()
	if d.stop {
		return
	}
	inner := slices.Clone(d.errs[n:])
	d.errs = d.errs[:n]
	d.add(e)
	for _, x := range inner {
		d.add(x)
	}
}

// setNumber stores the number literal lit into v as encoding/json would, or
// reports why it does not fit.
func (d *decState) setNumber(v reflect.Value, ti *decTypeInfo, lit []byte) {
	s := string(lit)
	switch ti.kind {
	case decNumber:
		v.SetString(s)
	case decInt:
		n, err := strconv.ParseInt(s, 10, ti.t.Bits())
		if err != nil {
			d.numErr(ti, s)
			return
		}
		v.SetInt(n)
	case decUint:
		n, err := strconv.ParseUint(s, 10, ti.t.Bits())
		if err != nil {
			d.numErr(ti, s)
			return
		}
		v.SetUint(n)
	case decFloat:
		f, err := strconv.ParseFloat(s, ti.t.Bits())
		if err != nil {
			d.addErr(fmt.Sprintf("number %s out of range for %s", decClip(s), ti.t.Kind()))
			return
		}
		v.SetFloat(f)
	}
}

func (d *decState) numErr(ti *decTypeInfo, s string) {
	if strings.ContainsAny(s, ".eE") {
		d.addErr(fmt.Sprintf("want integer, got number %s", decClip(s)))
		return
	}
	d.addErr(fmt.Sprintf("number %s out of range for %s", decClip(s), ti.t.Kind()))
}

// decIsNumber reports whether b is exactly a JSON number.
func decIsNumber(b []byte) bool {
	d := decState{data: b, stop: true} // stop: report nothing
	lit, ok := d.number()
	return ok && len(lit) == len(b)
}

// literal consumes lit (true, false or null) and returns true, or records a
// syntax error and returns false.
func (d *decState) literal(lit string) bool {
	for i := 0; i < len(lit); i++ {
		if d.pos+i >= len(d.data) || d.data[d.pos+i] != lit[i] {
			d.unexpected(d.pos + i)
			return false
		}
	}
	d.pos += len(lit)
	return true
}

// number consumes a number literal and returns its bytes, or records a syntax
// error and returns false.
func (d *decState) number() ([]byte, bool) {
	data := d.data
	start, i := d.pos, d.pos
	digits := func() bool {
		if i >= len(data) || data[i] < '0' || data[i] > '9' {
			d.unexpected(i)
			return false
		}
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
		}
		return true
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if !digits() {
		return nil, false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	d.pos = i
	return data[start:i], true
}

// str consumes the string at d.pos and returns its unescaped bytes, which alias
// d.data or d.buf and are valid until the next call. It returns false after
// recording an error: a syntax error, or invalid content in a well-formed
// string (invalid UTF-8, an unpaired surrogate escape), reported at the
// current path; isKey says the string is an object key.
func (d *decState) str(isKey bool) ([]byte, bool) {
	data := d.data
	start := d.pos + 1
	for i := start; i < len(data); i++ {
		c := data[i]
		if c == '"' {
			d.pos = i + 1
			return data[start:i], true
		}
		if c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return d.strSlow(start, i, isKey)
		}
	}
	return d.strSlow(start, len(data), isKey)
}

// strSlow finishes str from data[i], copying data[start:i] (plain ASCII).
func (d *decState) strSlow(start, i int, isKey bool) ([]byte, bool) {
	data := d.data
	buf := append(d.buf[:0], data[start:i]...)
	problem, probOff := "", 0
	for {
		if i >= len(data) {
			d.syntaxErr(i, "unexpected end of input in string")
			return nil, false
		}
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = buf
			if problem != "" {
				where := "string"
				if isKey {
					where = "object key"
				}
				d.addErr(fmt.Sprintf("%s in %s at offset %d", problem, where, probOff))
				return nil, false
			}
			return buf, true
		case c == '\\':
			if i+1 >= len(data) {
				d.syntaxErr(i+1, "unexpected end of input in string")
				return nil, false
			}
			switch e := data[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := decHex4(data, i+2)
				if !ok {
					d.syntaxErr(i, "invalid \\u escape in string")
					return nil, false
				}
				if utf16.IsSurrogate(r) {
					if r < 0xDC00 && i+12 <= len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
						if r2, ok := decHex4(data, i+8); ok && 0xDC00 <= r2 && r2 < 0xE000 {
							buf = utf8.AppendRune(buf, utf16.DecodeRune(r, r2))
							i += 12
							continue
						}
					}
					if problem == "" {
						problem = fmt.Sprintf("unpaired UTF-16 surrogate escape %s", data[i:i+6])
						probOff = i
					}
					r = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, r)
				i += 6
				continue
			default:
				d.syntaxErr(i, fmt.Sprintf("invalid escape %q in string", data[i:i+2]))
				return nil, false
			}
			i += 2
		case c < 0x20:
			d.syntaxErr(i, fmt.Sprintf("control character U+%04X in string (must be escaped)", c))
			return nil, false
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 && problem == "" {
				problem, probOff = "invalid UTF-8", i
			}
			buf = append(buf, data[i:i+size]...)
			i += size
		}
	}
}

// decHex4 parses the four hex digits at data[i:i+4].
func decHex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// key reads the next member key of an object whose '{' has been consumed, and
// the ':' after it. ok is false at the end of the object or after a syntax
// error. When good is false, the key's content was invalid (already reported)
// and the caller skips the member's value. k is valid until the next str call;
// data[rs:re] is the raw key.
func (d *decState) key(first *bool) (k []byte, rs, re int, ok, good bool) {
	if d.stop {
		return
	}
	d.skipWS()
	if d.pos >= len(d.data) {
		d.unexpected(d.pos)
		return
	}
	c := d.data[d.pos]
	if c == '}' {
		d.pos++
		return
	}
	if !*first {
		if c != ',' {
			d.syntaxErr(d.pos, fmt.Sprintf("want ',' or '}' after object member, got %s", decDescribe(d.data, d.pos)))
			return
		}
		d.pos++
		d.skipWS()
	}
	*first = false
	if d.pos >= len(d.data) || d.data[d.pos] != '"' {
		d.syntaxErr(d.pos, fmt.Sprintf("want string for object key, got %s", decDescribe(d.data, d.pos)))
		return
	}
	rs = d.pos + 1
	k, good = d.str(true)
	if d.stop {
		return nil, 0, 0, false, false
	}
	re = d.pos - 1
	d.skipWS()
	if d.pos >= len(d.data) || d.data[d.pos] != ':' {
		d.syntaxErr(d.pos, fmt.Sprintf("want ':' after object key, got %s", decDescribe(d.data, d.pos)))
		return nil, 0, 0, false, false
	}
	d.pos++
	return k, rs, re, true, good
}

// elem reports whether another array element follows; the '[' has been consumed.
func (d *decState) elem(first *bool) bool {
	if d.stop {
		return false
	}
	d.skipWS()
	if d.pos >= len(d.data) {
		d.unexpected(d.pos)
		return false
	}
	c := d.data[d.pos]
	if c == ']' {
		d.pos++
		return false
	}
	if *first {
		*first = false
		return true
	}
	if c != ',' {
		d.syntaxErr(d.pos, fmt.Sprintf("want ',' or ']' after array element, got %s", decDescribe(d.data, d.pos)))
		return false
	}
	d.pos++
	return true
}

// decDescribe names the byte at off for a syntax message.
func decDescribe(data []byte, off int) string {
	if off >= len(data) {
		return "end of input"
	}
	r, size := utf8.DecodeRune(data[off:])
	if r == utf8.RuneError && size <= 1 {
		return fmt.Sprintf("byte 0x%02x", data[off])
	}
	return strconv.QuoteRune(r)
}

// object decodes an object into struct v.
func (d *decState) object(v reflect.Value, ti *decTypeInfo) {
	d.pos++
	if !d.enter() {
		return
	}
	var seen uint64
	var seenMany []bool
	if len(ti.fields) > 64 {
		seenMany = make([]bool, len(ti.fields))
	}
	first := true
	for {
		k, rs, re, ok, good := d.key(&first)
		if !ok {
			break
		}
		if !good {
			d.skip()
			continue
		}
		idx, found := ti.byName[string(k)]
		if !found {
			msg := ti.unknownField(k)
			d.pushRaw(rs, re)
			d.addErr(msg)
			d.skip()
			d.pop()
			continue
		}
		f := &ti.fields[idx]
		d.pushName(f.name)
		var dup bool
		if seenMany != nil {
			dup, seenMany[idx] = seenMany[idx], true
		} else {
			dup = seen&(1<<idx) != 0
			seen |= 1 << idx
		}
		if dup {
			d.addErr(fmt.Sprintf("duplicate key %q", f.name))
			d.skip()
		} else if fv, ok := decFieldValue(v, f.index); ok {
			d.value(fv, f.ti)
		} else {
			d.addErr(fmt.Sprintf("cannot set embedded pointer to unexported struct type %s", fv.Type().Elem()))
			d.skip()
		}
		d.pop()
	}
	d.depth--
}

// decFieldValue returns the field of struct v at index, allocating embedded
// pointers on the way. When one cannot be set (a pointer to an unexported
// struct type) it returns that pointer and false.
func decFieldValue(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return v, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// mapObject decodes an object into map v.
func (d *decState) mapObject(v reflect.Value, ti *decTypeInfo) {
	d.pos++
	if !d.enter() {
		return
	}
	m := reflect.MakeMap(ti.t)
	v.Set(m)
	kt := ti.t.Key()
	first := true
	for {
		k, _, _, ok, good := d.key(&first)
		if !ok {
			break
		}
		if !good {
			d.skip()
			continue
		}
		ks := string(k)
		d.pushName(ks)
		var kv reflect.Value
		if ti.keyText {
			kp := reflect.New(kt)
			if err := kp.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(ks)); err != nil {
				d.userErr(err)
				d.skip()
				d.pop()
				continue
			}
			kv = kp.Elem()
		} else {
			kv = reflect.ValueOf(ks).Convert(kt)
		}
		if m.MapIndex(kv).IsValid() {
			d.addErr(fmt.Sprintf("duplicate key %q", decClip(ks)))
			d.skip()
		} else {
			ev := reflect.New(ti.elem.t).Elem()
			d.value(ev, ti.elem)
			m.SetMapIndex(kv, ev)
		}
		d.pop()
	}
	d.depth--
}

// array decodes an array into slice v.
func (d *decState) array(v reflect.Value, ti *decTypeInfo) {
	d.pos++
	if !d.enter() {
		return
	}
	n := 0
	first := true
	for d.elem(&first) {
		if n >= v.Cap() {
			nv := reflect.MakeSlice(ti.t, n, max(4, n+n/2))
			reflect.Copy(nv, v)
			v.Set(nv)
		}
		v.SetLen(n + 1)
		d.pushIndex(n)
		d.value(v.Index(n), ti.elem)
		d.pop()
		n++
	}
	if v.IsNil() {
		v.Set(reflect.MakeSlice(ti.t, 0, 0))
	}
	d.depth--
}

// skip consumes one value, checking its syntax and strings but keeping nothing.
func (d *decState) skip() { d.generic(false) }

// generic consumes one value and, when build is set, returns it as
// encoding/json decodes into an empty interface (objects as map[string]any,
// where a duplicated key is an error). Without build it returns nil and
// allocates nothing.
func (d *decState) generic(build bool) any {
	if d.stop {
		return nil
	}
	d.skipWS()
	if d.pos >= len(d.data) {
		d.unexpected(d.pos)
		return nil
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		d.pos++
		if !d.enter() {
			return nil
		}
		var m map[string]any
		if build {
			m = make(map[string]any)
		}
		first := true
		for {
			k, rs, re, ok, good := d.key(&first)
			if !ok {
				break
			}
			if !good {
				d.skip()
				continue
			}
			if !build {
				d.pushRaw(rs, re)
				d.skip()
				d.pop()
				continue
			}
			ks := string(k)
			d.pushName(ks)
			if _, dup := m[ks]; dup {
				d.addErr(fmt.Sprintf("duplicate key %q", decClip(ks)))
				d.skip()
			} else {
				m[ks] = d.generic(true)
			}
			d.pop()
		}
		d.depth--
		if !build {
			return nil
		}
		return m
	case c == '[':
		d.pos++
		if !d.enter() {
			return nil
		}
		var a []any
		if build {
			a = make([]any, 0)
		}
		n := 0
		first := true
		for d.elem(&first) {
			d.pushIndex(n)
			x := d.generic(build)
			d.pop()
			if build {
				a = append(a, x)
			}
			n++
		}
		d.depth--
		if !build {
			return nil
		}
		return a
	case c == '"':
		if b, ok := d.str(false); ok && build {
			return string(b)
		}
	case c == '-' || '0' <= c && c <= '9':
		if lit, ok := d.number(); ok && build {
			f, err := strconv.ParseFloat(string(lit), 64)
			if err != nil {
				d.addErr(fmt.Sprintf("number %s out of range for float64", decClip(string(lit))))
				return nil
			}
			return f
		}
	case c == 't':
		if d.literal("true") && build {
			return true
		}
	case c == 'f':
		if d.literal("false") && build {
			return false
		}
	case c == 'n':
		d.literal("null")
	default:
		d.unexpected(d.pos)
	}
	return nil
}
