package accessctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/internal/apipath"
	"github.com/wmpolicy/wmpolicy/internal/kind"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Rule is a WorkMail access-control rule in the API's shape (SEMANTICS A1): the
// element of `aws workmail list-access-control-rules` output and the parameters of
// PutAccessControlRule. It marshals to and from exactly that JSON, lists and zero
// values omitted (A16).
//
// A Rule is plain data: nothing is checked until [ValidateRules] or [Compile].
// Lists keep their text as written (a range with host bits stays "10.0.0.1/8").
// An absent or empty list sets no condition (A3).
type Rule struct {
	Name                    string           `json:"Name"`
	Effect                  policy.Effect    `json:"Effect"`
	Description             string           `json:"Description,omitempty"`
	IpRanges                []string         `json:"IpRanges,omitempty"`
	NotIpRanges             []string         `json:"NotIpRanges,omitempty"`
	Actions                 []string         `json:"Actions,omitempty"`
	NotActions              []string         `json:"NotActions,omitempty"`
	UserIds                 []string         `json:"UserIds,omitempty"`
	NotUserIds              []string         `json:"NotUserIds,omitempty"`
	ImpersonationRoleIds    []string         `json:"ImpersonationRoleIds,omitempty"`
	NotImpersonationRoleIds []string         `json:"NotImpersonationRoleIds,omitempty"`
	DateCreated             policy.Timestamp `json:"DateCreated,omitempty"`
	DateModified            policy.Timestamp `json:"DateModified,omitempty"`
}

// Clone returns a deep copy of r.
func (r Rule) Clone() Rule {
	c := r
	c.IpRanges = slices.Clone(r.IpRanges)
	c.NotIpRanges = slices.Clone(r.NotIpRanges)
	c.Actions = slices.Clone(r.Actions)
	c.NotActions = slices.Clone(r.NotActions)
	c.UserIds = slices.Clone(r.UserIds)
	c.NotUserIds = slices.Clone(r.NotUserIds)
	c.ImpersonationRoleIds = slices.Clone(r.ImpersonationRoleIds)
	c.NotImpersonationRoleIds = slices.Clone(r.NotImpersonationRoleIds)
	return c
}

// Limits of the WorkMail model (SEMANTICS A13, A14).
const (
	// WorkMailRuleLimit is the number of rules WorkMail allows in one organization,
	// the default rule included (A14). Rule lists loaded for evaluation may exceed it;
	// [Notes] mentions it.
	WorkMailRuleLimit = 10
	MaxNameLength     = 64   // Name: 1–64 characters of [a-zA-Z0-9_-]
	MaxDescription    = 255  // Description: 0–255 characters in U+0020–U+00FF
	MaxIPRanges       = 1024 // IpRanges, NotIpRanges: at most 1024 items each
	MaxActions        = 10   // Actions, NotActions: at most 10 items each
	MaxUserIDs        = 10   // UserIds, NotUserIds: at most 10 items each
	MinUserIDLength   = 12   // a user identifier has 12–256 characters
	MaxUserIDLength   = 256
	MaxRoleIDs        = 10 // ImpersonationRoleIds, NotImpersonationRoleIds: at most 10 items each
	MaxRoleIDLength   = 64 // a role ID has 1–64 characters of [a-zA-Z0-9_-]
)

// ValidateRule checks one rule against SEMANTICS A9–A13 and returns every
// violation as a [policy.ErrorList], with paths relative to the rule ("IpRanges[17]").
// Constraint violations are ValidationException; an unknown action is
// InvalidParameterException (A11). It returns nil when the rule is valid.
func ValidateRule(r *Rule) error { return validateRule(r, "", nil).Err() }

// ValidateRules checks a rule list given as a whole (a file, a compile call):
// every rule as [ValidateRule] does, with paths "Rules[i]…", and that no two rules
// share a Name (A15b). It reports every problem, in input order. More rules than
// [WorkMailRuleLimit] is not an error here (A14); see [Notes].
func ValidateRules(rules []Rule) error {
	return validateRules(rules, nil).Err()
}

// validateRules is ValidateRules; when parsed is not nil, it also appends to
// it every rule's parsed IpRanges and then NotIpRanges, rule by rule in input
// order (meaningful only when there is no error).
func validateRules(rules []Rule, parsed *[]cidr.Range) policy.ErrorList {
	var errs policy.ErrorList
	first := make(map[string]int, len(rules))
	for i := range rules {
		prefix := "Rules[" + strconv.Itoa(i) + "]"
		errs = append(errs, validateRule(&rules[i], prefix, parsed)...)
		name := rules[i].Name
		if j, dup := first[name]; dup {
			errs = append(errs, policy.Errorf(policy.ValidationException, prefix+".Name",
				fmt.Sprintf("duplicate rule name %q: also Rules[%d].Name", truncate(name, 64), j)))
		} else {
			first[name] = i
		}
	}
	return errs
}

// Notes returns remarks on a valid rule list that are not errors: today, only
// that it holds more rules than WorkMail allows in one organization (A14).
func Notes(rules []Rule) []string {
	if len(rules) > WorkMailRuleLimit {
		return []string{fmt.Sprintf("%d rules: more than WorkMail's limit of %d per organization (the default rule included); evaluation accepts any number", len(rules), WorkMailRuleLimit)}
	}
	return nil
}

func validateRule(r *Rule, prefix string, parsed *[]cidr.Range) policy.ErrorList {
	var errs policy.ErrorList
	bad := func(code policy.Code, path, format string, args ...any) {
		errs = append(errs, policy.Errorf(code, apipath.Join(prefix, path), fmt.Sprintf(format, args...)))
	}
	// Name
	switch {
	case !utf8.ValidString(r.Name):
		bad(policy.ValidationException, "Name", "invalid UTF-8")
	case r.Name == "":
		bad(policy.ValidationException, "Name", "rule name is required (1–%d characters of [a-zA-Z0-9_-])", MaxNameLength)
	case !isIDChars(r.Name):
		bad(policy.ValidationException, "Name", "rule name %q has a character outside [a-zA-Z0-9_-]", truncate(r.Name, 64))
	case len(r.Name) > MaxNameLength:
		bad(policy.ValidationException, "Name", "rule name is %d characters long: at most %d", len(r.Name), MaxNameLength)
	}
	if !r.Effect.Valid() {
		bad(policy.ValidationException, "Effect", "effect is required: ALLOW or DENY")
	}
	// Description
	if !utf8.ValidString(r.Description) {
		bad(policy.ValidationException, "Description", "invalid UTF-8")
	} else {
		n := 0
		for _, c := range r.Description {
			n++
			if c < 0x20 || c > 0xFF {
				bad(policy.ValidationException, "Description", "character %U at position %d is outside U+0020–U+00FF", c, n)
				break
			}
		}
		if n > MaxDescription {
			bad(policy.ValidationException, "Description", "description is %d characters long: at most %d", n, MaxDescription)
		}
	}
	checkRanges := func(field string, list []string) {
		if len(list) > MaxIPRanges {
			bad(policy.ValidationException, field, "%d ranges: at most %d", len(list), MaxIPRanges)
		}
		for j, s := range list {
			rg, err := cidr.ParseRange(s)
			if err != nil {
				bad(policy.ValidationException, fmt.Sprintf("%s[%d]", field, j), "%s", rangeMessage(err))
			}
			if parsed != nil {
				*parsed = append(*parsed, rg)
			}
		}
	}
	checkRanges("IpRanges", r.IpRanges)
	checkRanges("NotIpRanges", r.NotIpRanges)
	checkActions := func(field string, list []string) {
		if len(list) > MaxActions {
			bad(policy.ValidationException, field, "%d actions: at most %d", len(list), MaxActions)
		}
		for j, s := range list {
			if !utf8.ValidString(s) {
				bad(policy.ValidationException, fmt.Sprintf("%s[%d]", field, j), "invalid UTF-8")
				continue
			}
			if _, err := ParseAction(s); err != nil {
				bad(policy.InvalidParameterException, fmt.Sprintf("%s[%d]", field, j), "%s", invalidActionMessage(s))
			}
		}
	}
	checkActions("Actions", r.Actions)
	checkActions("NotActions", r.NotActions)
	checkUsers := func(field string, list []string) {
		if len(list) > MaxUserIDs {
			bad(policy.ValidationException, field, "%d user IDs: at most %d", len(list), MaxUserIDs)
		}
		for j, s := range list {
			if msg := checkUserID(s); msg != "" {
				bad(policy.ValidationException, fmt.Sprintf("%s[%d]", field, j), "%s", msg)
			}
		}
	}
	checkUsers("UserIds", r.UserIds)
	checkUsers("NotUserIds", r.NotUserIds)
	checkRoles := func(field string, list []string) {
		if len(list) > MaxRoleIDs {
			bad(policy.ValidationException, field, "%d role IDs: at most %d", len(list), MaxRoleIDs)
		}
		for j, s := range list {
			if msg := checkRoleID(s); msg != "" {
				bad(policy.ValidationException, fmt.Sprintf("%s[%d]", field, j), "%s", msg)
			}
		}
	}
	checkRoles("ImpersonationRoleIds", r.ImpersonationRoleIds)
	checkRoles("NotImpersonationRoleIds", r.NotImpersonationRoleIds)
	return errs
}

// checkUserID returns what is wrong with a user identifier (A13), or "".
func checkUserID(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	n := utf8.RuneCountInString(s)
	if n < MinUserIDLength || n > MaxUserIDLength {
		return fmt.Sprintf("user ID %q is %d characters long: must be %d–%d", truncate(s, 64), n, MinUserIDLength, MaxUserIDLength)
	}
	return ""
}

// checkRoleID returns what is wrong with an impersonation role ID (A13), or "".
func checkRoleID(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case s == "":
		return fmt.Sprintf("role ID is empty: must be 1–%d characters of [a-zA-Z0-9_-]", MaxRoleIDLength)
	case !isIDChars(s):
		return fmt.Sprintf("role ID %q has a character outside [a-zA-Z0-9_-]", truncate(s, 64))
	case len(s) > MaxRoleIDLength:
		return fmt.Sprintf("role ID %q is %d characters long: at most %d", truncate(s, 64), len(s), MaxRoleIDLength)
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

func rangeMessage(err error) string {
	if pe, ok := err.(*cidr.ParseError); ok {
		return pe.Error()
	}
	return err.Error()
}

// ListAccessControlRulesOutput is the wire shape of `aws workmail
// list-access-control-rules` output: {"Rules": [...]}.
type ListAccessControlRulesOutput struct {
	Rules []Rule `json:"Rules"`
}

// DecodeRules reads `aws workmail list-access-control-rules` output (SEMANTICS
// D3) strictly (D2: unknown, duplicated and wrong-case keys are errors) and
// validates it as [ValidateRules] does. Every problem is reported, each with its
// path, as a [policy.ErrorList]; on error no rules are returned. Input that is
// recognizably another kind of file (list-users output, a role) is reported as
// that mix-up (a ValidationException without a path).
func DecodeRules(data []byte) ([]Rule, error) {
	var out ListAccessControlRulesOutput
	if err := policy.DecodeStrict(data, &out); err != nil {
		if msg := kind.Mixup(data, kind.ListAccessControlRules); msg != "" {
			return nil, policy.ErrorList{policy.Errorf(policy.ValidationException, "", msg)}
		}
		return nil, err
	}
	if out.Rules == nil {
		out.Rules = []Rule{}
	}
	if err := ValidateRules(out.Rules); err != nil {
		return nil, err
	}
	return out.Rules, nil
}

// EncodeRules writes rules in the shape of `aws workmail list-access-control-rules`
// output, in ascending byte order of Name (A16), indented like the AWS CLI. The
// input slice is not modified.
func EncodeRules(rules []Rule) ([]byte, error) {
	sorted := slices.Clone(rules)
	slices.SortStableFunc(sorted, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	if sorted == nil {
		sorted = []Rule{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(ListAccessControlRulesOutput{Rules: sorted}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
