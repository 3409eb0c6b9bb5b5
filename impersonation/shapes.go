package impersonation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/internal/kind"
	"github.com/wmpolicy/wmpolicy/policy"
)

// MatchedRule is one deciding rule in a GetImpersonationRoleEffect answer (the
// model's ImpersonationMatchedRule): {"ImpersonationRuleId": …, "Name": …},
// Name omitted when the rule has none. It is a small comparable value.
type MatchedRule struct {
	ImpersonationRuleId string `json:"ImpersonationRuleId"`
	Name                string `json:"Name,omitempty"`
}

// GetImpersonationRoleEffectInput is the wire shape of a
// GetImpersonationRoleEffect request (the model's
// GetImpersonationRoleEffectRequest). OrganizationId and ImpersonationRoleId
// may be empty: a compiled [Evaluator] already is one organization's role.
type GetImpersonationRoleEffectInput struct {
	OrganizationId      string `json:"OrganizationId,omitempty"`
	ImpersonationRoleId string `json:"ImpersonationRoleId,omitempty"`
	TargetUser          string `json:"TargetUser"`
}

// Check returns every problem of the request's strings as a [policy.ErrorList]
// of ValidationException errors, or nil: OrganizationId, when set, matches
// m-[0-9a-f]{32}; ImpersonationRoleId, when set, is 1–64 characters of
// [a-zA-Z0-9_-]; TargetUser is 1–256 characters of [a-zA-Z0-9._%+@-]. It does
// not allocate when the request is valid.
func (in *GetImpersonationRoleEffectInput) Check() error {
	var errs policy.ErrorList
	if in.OrganizationId != "" && !policy.ValidOrganizationID(in.OrganizationId) {
		errs = append(errs, policy.Errorf(policy.ValidationException, "OrganizationId",
			fmt.Sprintf("organization ID %q must match m-[0-9a-f]{32}", truncate(in.OrganizationId, 64))))
	}
	if in.ImpersonationRoleId != "" {
		if msg := checkID("role ID", in.ImpersonationRoleId); msg != "" {
			errs = append(errs, policy.Errorf(policy.ValidationException, "ImpersonationRoleId", msg))
		}
	}
	if msg := CheckTargetUser(in.TargetUser); msg != "" {
		errs = append(errs, policy.Errorf(policy.ValidationException, "TargetUser", msg))
	}
	return errs.Err()
}

// GetImpersonationRoleEffectOutput is the wire shape of a
// GetImpersonationRoleEffect response (the model's
// GetImpersonationRoleEffectResponse): {"Type": …, "Effect": …,
// "MatchedRules": […]} exactly, in that order. MatchedRules is always written,
// as [] when empty (also when nil).
type GetImpersonationRoleEffectOutput struct {
	Type         Type          `json:"Type"`
	Effect       policy.Effect `json:"Effect"`
	MatchedRules []MatchedRule `json:"MatchedRules"`
}

// MarshalJSON writes the response, MatchedRules [] when nil.
func (o GetImpersonationRoleEffectOutput) MarshalJSON() ([]byte, error) {
	type plain GetImpersonationRoleEffectOutput
	if o.MatchedRules == nil {
		o.MatchedRules = []MatchedRule{}
	}
	return marshal(plain(o))
}

// RoleSummary is one item of `aws workmail list-impersonation-roles` output
// (the model's ImpersonationRole): ID, name, type and dates, without the rules
// (SEMANTICS B7).
type RoleSummary struct {
	ImpersonationRoleId string           `json:"ImpersonationRoleId"`
	Name                string           `json:"Name"`
	Type                Type             `json:"Type"`
	DateCreated         policy.Timestamp `json:"DateCreated,omitempty"`
	DateModified        policy.Timestamp `json:"DateModified,omitempty"`
}

// ListImpersonationRolesOutput is the wire shape of
// `aws workmail list-impersonation-roles` output (the model's
// ListImpersonationRolesResponse): {"Roles": […], "NextToken": …}. Roles is
// always written ([] when empty); NextToken is omitted when empty (AWS writes
// null or nothing on the last page; both read as "").
type ListImpersonationRolesOutput struct {
	Roles     []RoleSummary `json:"Roles"`
	NextToken string        `json:"NextToken,omitempty"`
}

// MarshalJSON writes the listing, Roles [] when nil.
func (o ListImpersonationRolesOutput) MarshalJSON() ([]byte, error) {
	type plain ListImpersonationRolesOutput
	if o.Roles == nil {
		o.Roles = []RoleSummary{}
	}
	return marshal(plain(o))
}

// Limits of ListImpersonationRoles output (the model's ImpersonationRoleList
// and NextToken).
const (
	MaxListedRoles     = 20   // roles in one ListImpersonationRoles page
	MaxNextTokenLength = 1024 // NextToken: 1–1024 characters
)

// DecodeRole reads `aws workmail get-impersonation-role` output (SEMANTICS D3)
// strictly with [policy.DecodeStrict] (D2: unknown, duplicated and wrong-case
// keys are errors — a typo'd "NotTargetUser" never silently widens a rule) and
// validates it as [ValidateRole] does. Every problem is reported with its path
// as a [policy.ErrorList]; on error the zero Role is returned. The decoding
// errors come alone: validation runs only on input that decodes. Input that is
// recognizably another kind of file is named as such.
func DecodeRole(data []byte) (Role, error) {
	var r Role
	if err := policy.DecodeStrict(data, &r); err != nil {
		if msg := kind.Mixup(data, kind.GetImpersonationRole); msg != "" {
			return Role{}, policy.ErrorList{policy.Errorf(policy.ValidationException, "", msg)}
		}
		return Role{}, err
	}
	if err := ValidateRole(r); err != nil {
		return Role{}, err
	}
	return r, nil
}

// EncodeRole writes r in the shape of `aws workmail get-impersonation-role`
// output, indented like the AWS CLI, with a final newline; rules keep their
// order (it is the order of MatchedRules, B4). An invalid role is refused with
// the errors of [ValidateRole], so that what EncodeRole writes DecodeRole reads.
func EncodeRole(r Role) ([]byte, error) {
	if err := ValidateRole(r); err != nil {
		return nil, err
	}
	return encodeIndented(r)
}

// DecodeRoleList reads `aws workmail list-impersonation-roles` output
// (SEMANTICS B7, D3) strictly with [policy.DecodeStrict] and checks every
// item: ImpersonationRoleId 1–64 characters of [a-zA-Z0-9_-], Name and Type as
// for a role, no ID or name twice; at most 20 roles; NextToken at most 1024
// characters. A listing with a NextToken is one page of a longer listing and
// is refused (SEMANTICS D4, a ValidationException at NextToken); input of
// another recognizable kind is named as such. Every problem is reported with its path ("Roles[3].Type") as a
// [policy.ErrorList]. Roles is [] (never nil) in a successful result.
func DecodeRoleList(data []byte) (ListImpersonationRolesOutput, error) {
	var out ListImpersonationRolesOutput
	if err := policy.DecodeStrict(data, &out); err != nil {
		if msg := kind.Mixup(data, kind.ListImpersonationRoles); msg != "" {
			return ListImpersonationRolesOutput{}, policy.ErrorList{policy.Errorf(policy.ValidationException, "", msg)}
		}
		return ListImpersonationRolesOutput{}, err
	}
	if err := validateRoleList(&out).Err(); err != nil {
		return ListImpersonationRolesOutput{}, err
	}
	if out.NextToken != "" {
		return ListImpersonationRolesOutput{}, policy.ErrorList{policy.Errorf(policy.ValidationException, "NextToken", kind.OnePage(kind.ListImpersonationRoles))}
	}
	if out.Roles == nil {
		out.Roles = []RoleSummary{}
	}
	return out, nil
}

// EncodeRoleList writes out in the shape of `aws workmail
// list-impersonation-roles` output, indented like the AWS CLI, roles in
// ascending byte order of Name, then ID (B7). The input is not modified. An
// invalid listing is refused with the errors DecodeRoleList would report.
func EncodeRoleList(out ListImpersonationRolesOutput) ([]byte, error) {
	if err := validateRoleList(&out).Err(); err != nil {
		return nil, err
	}
	out.Roles = slices.Clone(out.Roles)
	slices.SortStableFunc(out.Roles, func(a, b RoleSummary) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ImpersonationRoleId, b.ImpersonationRoleId)
	})
	return encodeIndented(out)
}

func validateRoleList(out *ListImpersonationRolesOutput) policy.ErrorList {
	var errs policy.ErrorList
	bad := func(path, format string, args ...any) {
		errs = append(errs, policy.Errorf(policy.ValidationException, path, fmt.Sprintf(format, args...)))
	}
	if len(out.Roles) > MaxListedRoles {
		bad("Roles", "%d roles: at most %d", len(out.Roles), MaxListedRoles)
	}
	ids := make(map[string]int, len(out.Roles))
	names := make(map[string]int, len(out.Roles))
	for i, r := range out.Roles {
		p := fmt.Sprintf("Roles[%d]", i)
		if msg := checkID("role ID", r.ImpersonationRoleId); msg != "" {
			bad(p+".ImpersonationRoleId", "%s", msg)
		} else if j, dup := ids[r.ImpersonationRoleId]; dup {
			bad(p+".ImpersonationRoleId", "duplicate role ID %q: also Roles[%d].ImpersonationRoleId", r.ImpersonationRoleId, j)
		} else {
			ids[r.ImpersonationRoleId] = i
		}
		if msg := checkName("role name", r.Name, true); msg != "" {
			bad(p+".Name", "%s", msg)
		} else if j, dup := names[r.Name]; dup {
			bad(p+".Name", "duplicate role name %q: also Roles[%d].Name", r.Name, j)
		} else {
			names[r.Name] = i
		}
		if !r.Type.Valid() {
			bad(p+".Type", "role type is required: FULL_ACCESS or READ_ONLY")
		}
	}
	switch {
	case !utf8.ValidString(out.NextToken):
		bad("NextToken", "invalid UTF-8")
	case utf8.RuneCountInString(out.NextToken) > MaxNextTokenLength:
		bad("NextToken", "next token is %d characters long: at most %d", utf8.RuneCountInString(out.NextToken), MaxNextTokenLength)
	}
	return errs
}

// marshal is json.Marshal without HTML escaping ("&" stays "&", as the AWS CLI
// writes it).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func encodeIndented(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
