package impersonation

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/internal/apipath"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Type is the type of an impersonation role (the model's ImpersonationRoleType):
// [FullAccess] or [ReadOnly]. GetImpersonationRoleEffect always answers with the
// role's type, whatever the effect (SEMANTICS B4), so that a caller can refuse
// writes made through a READ_ONLY role.
//
// The zero Type is not a valid type: it is what a role whose type was never set
// holds, and validation rejects it. Type is a small comparable value, safe to
// copy and to share.
type Type uint8

const (
	// FullAccess is "FULL_ACCESS": the role may read and write the target's mailbox.
	FullAccess Type = 1
	// ReadOnly is "READ_ONLY": the role may only read the target's mailbox.
	ReadOnly Type = 2
)

// ParseType parses "FULL_ACCESS" or "READ_ONLY" (exactly, case-sensitively). Any
// other string is an InvalidParameterException; a string that differs only in
// case gets a "did you mean" hint.
func ParseType(s string) (Type, error) {
	switch s {
	case "FULL_ACCESS":
		return FullAccess, nil
	case "READ_ONLY":
		return ReadOnly, nil
	}
	msg := fmt.Sprintf("invalid role type %q: must be FULL_ACCESS or READ_ONLY", truncate(s, 64))
	switch u := strings.ToUpper(s); u {
	case "FULL_ACCESS", "READ_ONLY":
		msg += fmt.Sprintf(" (did you mean %s?)", u)
	}
	return 0, &policy.Error{Code: policy.InvalidParameterException, Message: msg}
}

// String returns "FULL_ACCESS", "READ_ONLY", or "" for the zero Type and any
// value outside the enumeration.
func (t Type) String() string {
	switch t {
	case FullAccess:
		return "FULL_ACCESS"
	case ReadOnly:
		return "READ_ONLY"
	}
	return ""
}

// Valid reports whether t is FullAccess or ReadOnly.
func (t Type) Valid() bool { return t == FullAccess || t == ReadOnly }

// MarshalJSON writes "FULL_ACCESS" or "READ_ONLY"; an invalid Type is a
// ValidationException.
func (t Type) MarshalJSON() ([]byte, error) {
	if !t.Valid() {
		return nil, &policy.Error{Code: policy.ValidationException, Message: "role type is not set"}
	}
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON reads "FULL_ACCESS" or "READ_ONLY" exactly; anything else is a
// ValidationException.
func (t *Type) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) < 2 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return &policy.Error{Code: policy.ValidationException, Message: "role type must be a string, FULL_ACCESS or READ_ONLY"}
	}
	v, err := ParseType(s)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*policy.Error); ok {
			msg = pe.Message
		}
		return &policy.Error{Code: policy.ValidationException, Message: msg}
	}
	*t = v
	return nil
}

// Rule is one rule of an impersonation role in the API's shape (the model's
// ImpersonationRule, SEMANTICS B1): an element of the Rules of
// `aws workmail get-impersonation-role` output and of the Rules parameter of
// CreateImpersonationRole and UpdateImpersonationRole. It marshals to and from
// exactly that JSON; empty optional members are omitted.
//
// A Rule is plain data: nothing is checked until [ValidateRule], [ValidateRole]
// or [Compile]. A nil TargetUsers or NotTargetUsers list is absent and sets no
// condition (B3); a non-nil empty list is invalid, as in the model (1–10 items).
// The zero Rule is invalid (it has no ID and no effect).
type Rule struct {
	// ImpersonationRuleId identifies the rule within its role: required, 1–64
	// characters of [a-zA-Z0-9_-], unique within the role.
	ImpersonationRuleId string `json:"ImpersonationRuleId"`
	// Name is optional; when set, 1–64 characters without control characters,
	// '<', '>' or '\'.
	Name string `json:"Name,omitempty"`
	// Description is optional; when set, 1–256 characters without control
	// characters other than LF and CR, and without '<', '>' or '\'.
	Description string `json:"Description,omitempty"`
	// Effect is required: ALLOW or DENY.
	Effect policy.Effect `json:"Effect"`
	// TargetUsers, when present, limits the rule to these users: 1–10 user
	// identifiers (an ID, email address or user name) of 1–256 characters of
	// [a-zA-Z0-9._%+@-].
	TargetUsers []string `json:"TargetUsers,omitempty"`
	// NotTargetUsers, when present, excludes these users from the rule; same
	// constraints as TargetUsers.
	NotTargetUsers []string `json:"NotTargetUsers,omitempty"`
}

// Clone returns a deep copy of r. Nil lists stay nil and empty lists stay
// empty, so that a clone validates exactly as r does.
func (r Rule) Clone() Rule {
	r.TargetUsers = cloneList(r.TargetUsers)
	r.NotTargetUsers = cloneList(r.NotTargetUsers)
	return r
}

func cloneList(l []string) []string {
	if l == nil {
		return nil
	}
	return append(make([]string, 0, len(l)), l...)
}

// Role is an impersonation role in the API's shape: exactly the model's
// GetImpersonationRoleResponse, i.e. `aws workmail get-impersonation-role`
// output (SEMANTICS B1, D3). It marshals to that JSON: Rules is always written
// (as [] when there are none), other empty optional members are omitted, and
// timestamps are written as epoch seconds.
//
// A Role is plain data: nothing is checked until [ValidateRole] or [Compile].
// The zero Role is invalid (it has no name and no type).
type Role struct {
	// ImpersonationRoleId identifies the role in its organization: 1–64
	// characters of [a-zA-Z0-9_-]. It may be empty in a role that has not been
	// created yet; WorkMail assigns a UUID on creation (B5).
	ImpersonationRoleId string `json:"ImpersonationRoleId,omitempty"`
	// Name is required: 1–64 characters without control characters, '<', '>'
	// or '\'.
	Name string `json:"Name"`
	// Type is required: FULL_ACCESS or READ_ONLY.
	Type Type `json:"Type"`
	// Description is optional; when set, 1–256 characters without control
	// characters other than LF and CR, and without '<', '>' or '\'.
	Description string `json:"Description,omitempty"`
	// Rules are 0–10 rules, evaluated as a set: their order changes only the
	// order of MatchedRules (B4).
	Rules []Rule `json:"Rules"`
	// DateCreated and DateModified are informational; zero is omitted.
	DateCreated  policy.Timestamp `json:"DateCreated,omitempty"`
	DateModified policy.Timestamp `json:"DateModified,omitempty"`
}

// Clone returns a deep copy of r.
func (r Role) Clone() Role {
	if r.Rules != nil {
		rules := make([]Rule, len(r.Rules))
		for i, x := range r.Rules {
			rules[i] = x.Clone()
		}
		r.Rules = rules
	}
	return r
}

// MarshalJSON writes the role as GetImpersonationRoleResponse, with "Rules"
// always present ([] when there are none). An invalid Type or Effect is an error.
func (r Role) MarshalJSON() ([]byte, error) {
	type plain Role // no methods: no recursion
	if r.Rules == nil {
		r.Rules = []Rule{}
	}
	return marshal(plain(r))
}

// Summary returns the role as an item of ListImpersonationRoles output.
func (r Role) Summary() RoleSummary {
	return RoleSummary{
		ImpersonationRoleId: r.ImpersonationRoleId,
		Name:                r.Name,
		Type:                r.Type,
		DateCreated:         r.DateCreated,
		DateModified:        r.DateModified,
	}
}

// Limits of the WorkMail model (SEMANTICS B1).
const (
	MaxRules             = 10  // rules per role
	MaxIDLength          = 64  // role and rule IDs: 1–64 characters of [a-zA-Z0-9_-]
	MaxNameLength        = 64  // role and rule names: 1–64 characters
	MaxDescriptionLength = 256 // role and rule descriptions: 1–256 characters
	MaxTargetUsers       = 10  // TargetUsers, NotTargetUsers: 1–10 items each
	MaxTargetUserLength  = 256 // a user identifier: 1–256 characters of [a-zA-Z0-9._%+@-]
)

// ValidateRole checks a role against SEMANTICS B1 and returns every violation,
// in input order, as a [policy.ErrorList] of ValidationException errors with
// their paths ("Name", "Rules[2].TargetUsers[0]", …); nil when the role is valid.
//
// Checked: ImpersonationRoleId, when set, is 1–64 characters of [a-zA-Z0-9_-];
// Name is present, 1–64 characters, without control characters (U+0000–U+001F,
// U+007F), '<', '>' or '\'; Type is FULL_ACCESS or READ_ONLY; Description, when
// set, is 1–256 characters, without control characters other than LF and CR,
// '<', '>' or '\'; at most 10 rules, each valid as [ValidateRule] says, with
// rule IDs unique within the role (a duplicate names both places). Lengths count
// Unicode code points; invalid UTF-8 in any string is an error. It costs one
// pass over the role's strings.
func ValidateRole(r Role) error { return validateRole(&r).Err() }

// ValidateRule checks one rule against SEMANTICS B1 and returns every
// violation as a [policy.ErrorList] of ValidationException errors, with paths
// relative to the rule ("TargetUsers[3]"); nil when the rule is valid.
//
// Checked: ImpersonationRuleId is present, 1–64 characters of [a-zA-Z0-9_-];
// Name and Description, when set, as for a role; Effect is ALLOW or DENY;
// TargetUsers and NotTargetUsers are each nil or 1–10 items of 1–256 characters
// of [a-zA-Z0-9._%+@-].
func ValidateRule(r Rule) error { return validateRule(&r, "").Err() }

func validateRole(r *Role) policy.ErrorList {
	var errs policy.ErrorList
	bad := func(path, format string, args ...any) {
		errs = append(errs, policy.Errorf(policy.ValidationException, path, fmt.Sprintf(format, args...)))
	}
	if r.ImpersonationRoleId != "" {
		if msg := checkID("role ID", r.ImpersonationRoleId); msg != "" {
			bad("ImpersonationRoleId", "%s", msg)
		}
	}
	if msg := checkName("role name", r.Name, true); msg != "" {
		bad("Name", "%s", msg)
	}
	if !r.Type.Valid() {
		if r.Type == 0 {
			bad("Type", "role type is required: FULL_ACCESS or READ_ONLY")
		} else {
			bad("Type", "invalid role type %d: must be FULL_ACCESS or READ_ONLY", uint8(r.Type))
		}
	}
	if msg := checkDescription("role description", r.Description); msg != "" {
		bad("Description", "%s", msg)
	}
	if len(r.Rules) > MaxRules {
		bad("Rules", "%d rules: at most %d", len(r.Rules), MaxRules)
	}
	first := make(map[string]int, len(r.Rules))
	for i := range r.Rules {
		prefix := fmt.Sprintf("Rules[%d]", i)
		errs = append(errs, validateRule(&r.Rules[i], prefix)...)
		id := r.Rules[i].ImpersonationRuleId
		if id == "" || !utf8.ValidString(id) {
			continue // already reported
		}
		if j, dup := first[id]; dup {
			bad(prefix+".ImpersonationRuleId", "duplicate rule ID %q: also Rules[%d].ImpersonationRuleId", truncate(id, 64), j)
		} else {
			first[id] = i
		}
	}
	return errs
}

func validateRule(r *Rule, prefix string) policy.ErrorList {
	var errs policy.ErrorList
	bad := func(path, format string, args ...any) {
		errs = append(errs, policy.Errorf(policy.ValidationException, apipath.Join(prefix, path), fmt.Sprintf(format, args...)))
	}
	if msg := checkID("rule ID", r.ImpersonationRuleId); msg != "" {
		bad("ImpersonationRuleId", "%s", msg)
	}
	if msg := checkName("rule name", r.Name, false); msg != "" {
		bad("Name", "%s", msg)
	}
	if msg := checkDescription("rule description", r.Description); msg != "" {
		bad("Description", "%s", msg)
	}
	if !r.Effect.Valid() {
		bad("Effect", "effect is required: ALLOW or DENY")
	}
	checkUsers := func(field string, list []string) {
		switch {
		case list == nil:
			return
		case len(list) == 0:
			bad(field, "empty list: give 1–%d users, or leave %s out for no condition", MaxTargetUsers, field)
		case len(list) > MaxTargetUsers:
			bad(field, "%d users: at most %d", len(list), MaxTargetUsers)
		}
		for j, s := range list {
			if msg := CheckTargetUser(s); msg != "" {
				bad(fmt.Sprintf("%s[%d]", field, j), "%s", msg)
			}
		}
	}
	checkUsers("TargetUsers", r.TargetUsers)
	checkUsers("NotTargetUsers", r.NotTargetUsers)
	return errs
}

// CheckTargetUser returns what is wrong with a user identifier as the model's
// EntityIdentifier constrains it (1–256 characters, full match of
// [a-zA-Z0-9._%+@-]+), or "" when it is well formed. It applies to the entries
// of TargetUsers and NotTargetUsers and to GetImpersonationRoleEffect's
// TargetUser. It costs one pass over s and does not allocate when s is valid.
func CheckTargetUser(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case s == "":
		return fmt.Sprintf("user identifier is empty: must be 1–%d characters of [a-zA-Z0-9._%%+@-]", MaxTargetUserLength)
	case len(s) > MaxTargetUserLength:
		return fmt.Sprintf("user identifier is %d characters long: at most %d", utf8.RuneCountInString(s), MaxTargetUserLength)
	}
	for i := 0; i < len(s); i++ {
		if !entityChar[s[i]] {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return fmt.Sprintf("user identifier %q has %q, outside [a-zA-Z0-9._%%+@-]", truncate(s, 64), r)
		}
	}
	return ""
}

// entityChar is the character class of the model's EntityIdentifier.
var entityChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._%+@-", byte(c)) >= 0
	}
	return t
}()

// checkID returns what is wrong with a role or rule ID, or "".
func checkID(what, s string) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case s == "":
		return fmt.Sprintf("%s is required: 1–%d characters of [a-zA-Z0-9_-]", what, MaxIDLength)
	case !isIDChars(s):
		return fmt.Sprintf("%s %q has a character outside [a-zA-Z0-9_-]", what, truncate(s, 64))
	case len(s) > MaxIDLength:
		return fmt.Sprintf("%s is %d characters long: at most %d", what, len(s), MaxIDLength)
	}
	return ""
}

func isIDChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkName returns what is wrong with a role or rule name (the model's
// pattern [^\x00-\x1F\x7F\x3C\x3E\x5C]+, 1–64 characters), or "". An empty name
// is an error only when required.
func checkName(what, s string, required bool) string {
	if s == "" {
		if required {
			return fmt.Sprintf("%s is required: 1–%d characters", what, MaxNameLength)
		}
		return ""
	}
	return checkText(what, s, MaxNameLength, false)
}

// checkDescription returns what is wrong with a role or rule description (the
// model's pattern [^\x00-\x09\x0B\x0C\x0E-\x1F\x7F\x3C\x3E\x5C]+, 1–256
// characters), or "". Descriptions are optional: "" is absent.
func checkDescription(what, s string) string {
	if s == "" {
		return ""
	}
	return checkText(what, s, MaxDescriptionLength, true)
}

func checkText(what, s string, maxLen int, lineBreaks bool) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	n := 0
	for _, c := range s {
		n++
		switch {
		case (c == '\n' || c == '\r') && lineBreaks:
		case c < 0x20 || c == 0x7F:
			return fmt.Sprintf("%s has the control character %U at position %d", what, c, n)
		case c == '<' || c == '>' || c == '\\':
			return fmt.Sprintf("%s has %q at position %d: '<', '>' and '\\' are not allowed", what, c, n)
		}
	}
	if n > maxLen {
		return fmt.Sprintf("%s is %d characters long: at most %d", what, n, maxLen)
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut at a rune boundary, so that %q shows what the input holds.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
