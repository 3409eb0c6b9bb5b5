package policy

import (
	"github.com/wmpolicy/wmpolicy/internal/strictjson"
)

// Limits of [DecodeStrict].
const (
	// DecodeMaxDepth is the deepest nesting of JSON arrays and objects that
	// DecodeStrict accepts; deeper input is a ValidationException, never a stack
	// overflow. WorkMail's shapes nest at most four levels.
	DecodeMaxDepth = strictjson.MaxDepth

	// DecodeMaxErrors is the most problems DecodeStrict reports for one input.
	// When there are more, the list ends with one more error saying so.
	DecodeMaxErrors = strictjson.MaxErrors
)

// DecodeStrict decodes the one JSON value in data into v, which must be a non-nil
// pointer, strictly (SEMANTICS D2, A13):
//
//   - Object keys match struct fields by exact bytes on the JSON name (the
//     `json:"Name"` tag name, else the Go field name; `json:"-"` and unexported
//     fields are not fields; fields of embedded structs are promoted as
//     encoding/json promotes them). An unknown key, a key in the wrong case and a
//     duplicated key are errors; a key in the wrong case, or within two edits of
//     a field name, gets a "did you mean" hint. A typo'd `NotIpRange` never
//     silently widens a rule.
//   - A JSON value of the wrong kind for its Go type ("want array, got string")
//     is an error; numbers must fit their Go type (integers exactly, as
//     encoding/json reads them).
//   - Invalid UTF-8 anywhere, and a \u escape of an unpaired UTF-16 surrogate,
//     are errors naming the string that holds them (encoding/json would silently
//     replace them with U+FFFD).
//   - JSON null leaves the zero value, as if the member were absent; for a type
//     implementing [json.Unmarshaler] UnmarshalJSON is not called with null.
//   - Syntax errors (including an empty input, trailing commas, a byte order
//     mark, unescaped control characters in strings and data after the value)
//     and nesting deeper than [DecodeMaxDepth] are errors naming the byte offset.
//
// Supported Go types: structs, pointers (allocated as needed), slices ([]byte
// also from a base64 string, like encoding/json), maps with string-kind or
// [encoding.TextUnmarshaler] keys, strings, booleans, integers, floats,
// [json.Number], [json.RawMessage] (any valid JSON value, kept as its raw bytes:
// how a shape accepts and ignores model members the library does not use, such
// as `UserRole`), the empty interface (decoded like encoding/json: map[string]any,
// []any, float64, string, bool, nil), and types implementing [json.Unmarshaler]
// or [encoding.TextUnmarshaler] (given the value's raw bytes after they passed
// the checks above). Struct tag options such as ",string" are ignored. A value
// for any other type (chan, func, complex, array, other interfaces, other maps)
// is an error, never a panic.
//
// The result is nil or an [ErrorList] of [*Error] in input order, each with
// code ValidationException and the path of the value in API names, e.g.
// `Rules[3].NotIpRange`, `Users[1].email`, `[0].Name` for a top-level array, or
// `Tags.key` / `Tags["odd key"]` for a map entry. Decoding goes on after an
// unknown field, a duplicated key, a value of the wrong type or invalid UTF-8 (by
// skipping that value), so one call reports every such problem, up to
// [DecodeMaxErrors]; it stops at the first syntax error. An error returned by an
// UnmarshalJSON or UnmarshalText method keeps its [Code] and message (an [*Error]
// or [ErrorList]; any other error becomes a ValidationException with its text),
// and gets the value's path prepended.
//
// *v is replaced only on success: DecodeStrict decodes into a new zero value of
// v's element type and stores it in *v when there is no error, so members absent
// from data are zero in the result (unlike encoding/json, which merges into *v),
// and a failed call leaves *v exactly as it was.
//
// Cost: time and memory linear in len(data), one pass, no recursion deeper than
// DecodeMaxDepth. Per-type field tables are computed once and cached. DecodeStrict
// is safe for concurrent use; data is not retained (json.RawMessage values are
// copies), but UnmarshalJSON methods, as with encoding/json, receive slices of
// data and must copy what they keep.
func DecodeStrict(data []byte, v any) error {
	probs := strictjson.Decode(data, v, splitError)
	if len(probs) == 0 {
		return nil
	}
	errs := make(ErrorList, len(probs))
	for i, p := range probs {
		code := Code(p.Code)
		if code == "" {
			code = ValidationException
		}
		errs[i] = &Error{Code: code, Path: p.Path, Message: p.Message}
	}
	return errs
}

// splitError gives strictjson the [*Error]s in an error returned by an
// UnmarshalJSON or UnmarshalText method, so that they keep their codes (a nil
// *Error or an empty ErrorList is "invalid value").
func splitError(err error) []strictjson.Problem {
	list := Errors(err)
	if len(list) == 0 { // an empty ErrorList
		list = []*Error{nil}
	}
	out := make([]strictjson.Problem, len(list))
	for i, e := range list {
		if e == nil { // a typed nil *Error
			out[i] = strictjson.Problem{Message: "invalid value"}
			continue
		}
		out[i] = strictjson.Problem{Code: string(e.Code), Path: e.Path, Message: e.Message}
	}
	return out
}
