package policy

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Effect is the effect of a rule or of a decision: [Allow] or [Deny].
//
// The zero Effect is not a valid effect: it is what a rule whose effect was never
// set holds, and validation rejects it. Decisions are always Allow or Deny, and a
// caller that tests `effect == Allow` fails closed on anything else.
type Effect uint8

const (
	// Deny is the "DENY" effect.
	Deny Effect = 1
	// Allow is the "ALLOW" effect.
	Allow Effect = 2
)

// ParseEffect parses "ALLOW" or "DENY" (exactly, case-sensitively). Any other
// string is an InvalidParameterException.
func ParseEffect(s string) (Effect, error) {
	switch s {
	case "ALLOW":
		return Allow, nil
	case "DENY":
		return Deny, nil
	}
	msg := fmt.Sprintf("invalid effect %q: must be ALLOW or DENY", s)
	switch strings.ToUpper(s) {
	case "ALLOW", "DENY":
		msg += fmt.Sprintf(" (did you mean %s?)", strings.ToUpper(s))
	}
	return 0, &Error{Code: InvalidParameterException, Message: msg}
}

// String returns "ALLOW", "DENY", or "" for the zero Effect.
func (e Effect) String() string {
	switch e {
	case Allow:
		return "ALLOW"
	case Deny:
		return "DENY"
	}
	return ""
}

// Valid reports whether e is Allow or Deny.
func (e Effect) Valid() bool { return e == Allow || e == Deny }

// MarshalJSON writes "ALLOW" or "DENY"; the zero Effect is an error.
func (e Effect) MarshalJSON() ([]byte, error) {
	if !e.Valid() {
		return nil, &Error{Code: ValidationException, Message: "effect is not set"}
	}
	return []byte(`"` + e.String() + `"`), nil
}

// UnmarshalJSON reads "ALLOW" or "DENY" exactly.
func (e *Effect) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) < 2 || b[0] != '"' {
		return &Error{Code: ValidationException, Message: "effect must be a string, ALLOW or DENY"}
	}
	if err := unquote(b, &s); err != nil {
		return err
	}
	v, err := ParseEffect(s)
	if err != nil {
		var pe *Error
		if ok := asError(err, &pe); ok {
			return &Error{Code: ValidationException, Message: pe.Message}
		}
		return err
	}
	*e = v
	return nil
}

// Timestamp is an instant as WorkMail reports it (DateCreated, DateModified, …),
// held as nanoseconds since the Unix epoch. The zero Timestamp is the epoch itself,
// which WorkMail uses for "never set" (the default rule's dates are 0), and is
// omitted from JSON output by `omitempty`.
//
// It is read from JSON as epoch seconds (a number, fractions allowed) or an RFC 3339
// string, both of which the AWS CLI prints, and written as epoch seconds
// (SEMANTICS D2).
type Timestamp int64

// TimestampOf returns the Timestamp of t.
func TimestampOf(t time.Time) Timestamp { return Timestamp(t.UnixNano()) }

// Time returns the timestamp as a time.Time in UTC.
func (t Timestamp) Time() time.Time { return time.Unix(0, int64(t)).UTC() }

// MarshalJSON writes epoch seconds, with a fraction only when there is one
// (1581635628 or 1532459261.827).
func (t Timestamp) MarshalJSON() ([]byte, error) {
	var b []byte
	v := uint64(t)
	if t < 0 {
		b = append(b, '-')
		v = uint64(-(t + 1)) + 1 // |t| without overflow at MinInt64
	}
	sec, ns := v/1e9, v%1e9
	b = strconv.AppendUint(b, sec, 10)
	if ns != 0 {
		frac := []byte(fmt.Sprintf("%09d", ns))
		b = append(b, '.')
		b = append(b, bytes.TrimRight(frac, "0")...)
	}
	return b, nil
}

// UnmarshalJSON reads epoch seconds (a JSON number) or an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := unquote(b, &s); err != nil {
			return err
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return &Error{Code: ValidationException, Message: fmt.Sprintf("invalid timestamp %q: want epoch seconds or RFC 3339", s)}
		}
		*t = TimestampOf(tm)
		return nil
	}
	v, err := parseEpoch(string(b))
	if err != nil {
		return &Error{Code: ValidationException, Message: fmt.Sprintf("invalid timestamp %s: want epoch seconds or RFC 3339", b)}
	}
	*t = v
	return nil
}

// parseEpoch parses a decimal number of seconds exactly to nanoseconds: no float
// rounding for up to 9 fractional digits; further digits are truncated. Values
// beyond what int64 nanoseconds hold (about ±292 years around 1970) are errors.
func parseEpoch(s string) (Timestamp, error) {
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 9e9 {
			return 0, strconv.ErrSyntax
		}
		return Timestamp(math.Round(f * 1e9)), nil
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 10 {
		return 0, strconv.ErrSyntax
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, err
	}
	if sec >= math.MaxInt64/int64(1e9) { // beyond year 2262: not representable
		return 0, strconv.ErrRange
	}
	var ns int64
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		if i < 9 {
			ns = ns*10 + int64(c-'0')
		}
	}
	for i := len(frac); i < 9; i++ {
		ns *= 10
	}
	v := sec*1e9 + ns
	if neg {
		v = -v
	}
	return Timestamp(v), nil
}

// Reason says why a decision came out as it did (SEMANTICS A6–A8, B4). It is
// shared by access-control and impersonation decisions; the zero Reason is
// ImplicitDeny, the fail-closed answer.
type Reason uint8

const (
	// ImplicitDeny: no rule matched, so the answer is DENY.
	ImplicitDeny Reason = iota
	// ExplicitDeny: at least one matching rule is DENY (deny overrides).
	ExplicitDeny
	// ExplicitAllow: rules matched, and all of them are ALLOW.
	ExplicitAllow
)

// String returns "implicit deny", "explicit deny" or "explicit allow".
func (r Reason) String() string {
	switch r {
	case ImplicitDeny:
		return "implicit deny"
	case ExplicitDeny:
		return "explicit deny"
	case ExplicitAllow:
		return "explicit allow"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}
