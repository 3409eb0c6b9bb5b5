package policytest

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

// InvalidRole generates impersonation roles that impersonation.ValidateRole,
// Compile and EncodeRole reject (SEMANTICS B1), all ValidationException. Each
// is a valid [Role] with one thing broken:
//
//   - ImpersonationRoleId: outside [a-zA-Z0-9_-] or longer than 64;
//   - Name: empty, longer than 64, a control character, '<', '>' or '\',
//     invalid UTF-8; Description: longer than 256, a control character other
//     than LF and CR, '<', '>' or '\', invalid UTF-8;
//   - Type: unset or out of range; Rules: more than 10;
//   - Rules[i].ImpersonationRuleId: empty, longer than 64, outside
//     [a-zA-Z0-9_-], or a duplicate of an earlier rule's ID (the later one's
//     path);
//   - Rules[i].Name, Rules[i].Description: as for the role (but empty is absent
//     and fine); Rules[i].Effect: unset;
//   - Rules[i].TargetUsers / NotTargetUsers: an empty (non-nil) list, more
//     than 10 entries; an entry empty, longer than 256, outside
//     [a-zA-Z0-9._%+@-] or invalid UTF-8 ([InvalidTargetUser]).
//
// Shrinks toward a role with an invalid ID.
func InvalidRole() *rapid.Generator[Invalid[impersonation.Role]] {
	return rapid.Custom(func(t *rapid.T) Invalid[impersonation.Role] {
		role := Role(RoleOptions{}).Draw(t, "role")
		role = role.Clone()
		bad := func(class, path string) Invalid[impersonation.Role] {
			return invalid(role, "B1", class, policy.ValidationException, path)
		}
		badName := []string{repeat("n", impersonation.MaxNameLength+1), "tab\tname", "a<b", "a>b", `a\b`, "nul\x00", "del\x7f", "bad\xff"}
		badDesc := []string{repeat("d", impersonation.MaxDescriptionLength+1), "tab\there", "a<b", "a>b", `a\b`, "bell\a", "bad\xff"}
		field := rapid.IntRange(0, 9).Draw(t, "field")
		if field >= 5 && len(role.Rules) == 0 {
			role.Rules = []impersonation.Rule{{ImpersonationRuleId: "r0", Effect: policy.Allow}}
		}
		i := 0
		if len(role.Rules) > 0 {
			i = rapid.IntRange(0, len(role.Rules)-1).Draw(t, "rule")
		}
		rp := fmt.Sprintf("Rules[%d]", i)
		switch field {
		case 0:
			role.ImpersonationRoleId = rapid.SampledFrom([]string{repeat("r", impersonation.MaxIDLength+1), "role.1", "role 1", "rôle"}).Draw(t, "id")
			return bad("invalid role ID", "ImpersonationRoleId")
		case 1:
			role.Name = rapid.SampledFrom(append([]string{""}, badName...)).Draw(t, "name")
			return bad("invalid role name", "Name")
		case 2:
			role.Description = rapid.SampledFrom(badDesc).Draw(t, "description")
			return bad("invalid role description", "Description")
		case 3:
			role.Type = impersonation.Type(rapid.SampledFrom([]int{0, 3, 255}).Draw(t, "type"))
			return bad("invalid type", "Type")
		case 4:
			for len(role.Rules) <= impersonation.MaxRules {
				role.Rules = append(role.Rules, impersonation.Rule{ImpersonationRuleId: fmt.Sprintf("extra-%d", len(role.Rules)), Effect: policy.Deny})
			}
			return bad("too many rules", "Rules")
		case 5:
			if len(role.Rules) > 1 && rapid.Bool().Draw(t, "duplicate?") {
				j := rapid.IntRange(1, len(role.Rules)-1).Draw(t, "later")
				role.Rules[j].ImpersonationRuleId = role.Rules[rapid.IntRange(0, j-1).Draw(t, "earlier")].ImpersonationRuleId
				return bad("duplicate rule ID", fmt.Sprintf("Rules[%d].ImpersonationRuleId", j))
			}
			role.Rules[i].ImpersonationRuleId = rapid.SampledFrom([]string{"", repeat("i", impersonation.MaxIDLength+1), "rule.1", "rule 1", "règle"}).Draw(t, "rule id")
			return bad("invalid rule ID", rp+".ImpersonationRuleId")
		case 6:
			if rapid.Bool().Draw(t, "name?") {
				role.Rules[i].Name = rapid.SampledFrom(badName).Draw(t, "rule name")
				return bad("invalid rule name", rp+".Name")
			}
			role.Rules[i].Description = rapid.SampledFrom(badDesc).Draw(t, "rule description")
			return bad("invalid rule description", rp+".Description")
		case 7:
			role.Rules[i].Effect = policy.Effect(rapid.SampledFrom([]int{0, 3}).Draw(t, "effect"))
			return bad("invalid effect", rp+".Effect")
		default:
			field, list := "TargetUsers", &role.Rules[i].TargetUsers
			if rapid.Bool().Draw(t, "not?") {
				field, list = "NotTargetUsers", &role.Rules[i].NotTargetUsers
			}
			switch rapid.IntRange(0, 3).Draw(t, "kind") {
			case 0:
				*list = []string{}
				return bad("empty list", rp+"."+field)
			case 1:
				*list = slices.Repeat([]string{"alice"}, impersonation.MaxTargetUsers+1)
				return bad("too many target users", rp+"."+field)
			}
			v := InvalidTargetUser().Draw(t, "target").Value
			if len(*list) == 0 {
				*list = []string{v}
				return bad("invalid target user", fmt.Sprintf("%s.%s[0]", rp, field))
			}
			j := rapid.IntRange(0, len(*list)-1).Draw(t, "entry")
			(*list)[j] = v
			return bad("invalid target user", fmt.Sprintf("%s.%s[%d]", rp, field, j))
		}
	})
}

// InvalidTargetUser generates user identifiers that
// impersonation.CheckTargetUser rejects (SEMANTICS B1: 1–256 characters of
// [a-zA-Z0-9._%+@-]), as the TargetUser of a GetImpersonationRoleEffect
// request: ValidationException, Path "TargetUser" (in a role, the entry's path).
// Covers: empty; 257 characters; a character outside the class (space, '!',
// '/', ',', '#', 'é', a control character); invalid UTF-8. Shrinks toward "".
func InvalidTargetUser() *rapid.Generator[Invalid[string]] {
	return rapid.Custom(func(t *rapid.T) Invalid[string] {
		bad := func(s, class string) Invalid[string] {
			return invalid(s, "B1", class, policy.ValidationException, "TargetUser")
		}
		switch rapid.IntRange(0, 3).Draw(t, "class") {
		case 0:
			return bad("", "empty")
		case 1:
			return bad(repeat("u", impersonation.MaxTargetUserLength+1), "too long")
		case 2:
			c := rapid.SampledFrom([]string{" ", "!", "/", ",", "#", "é", "\x00", "\n", "*"}).Draw(t, "char")
			return bad(insertAt(t, rapid.SampledFrom(targetPool).Draw(t, "name"), c), "bad character")
		default:
			return bad(insertAt(t, rapid.SampledFrom(targetPool).Draw(t, "name"), "\xff"), "invalid UTF-8")
		}
	})
}

// InvalidRoleJSON generates `aws workmail get-impersonation-role` output that
// impersonation.DecodeRole rejects, with the path it reports
// (ValidationException):
//
//   - D2: an unknown member ("NotTargetUser", "TargetUser", "RoleName" — the
//     typos that would widen or rename a rule), a member in the wrong case
//     ("name", "targetUsers", "TYPE"), a duplicated member, a value of the wrong
//     JSON type, a Type or Effect not written exactly, invalid UTF-8; a syntax
//     error (Path "");
//   - B1: any [InvalidRole] that encodes faithfully, encoded.
//
// Shrinks toward an unknown member in the first rule.
func InvalidRoleJSON() *rapid.Generator[Invalid[[]byte]] {
	return rapid.Custom(func(t *rapid.T) Invalid[[]byte] {
		if rapid.IntRange(0, 4).Draw(t, "semantic?") == 4 {
			ir := InvalidRole().Filter(roleEncodable).Draw(t, "role")
			b, err := json.Marshal(ir.Value)
			if err != nil {
				panic("policytest: " + err.Error())
			}
			return invalid(b, ir.Rule, ir.Class, ir.Code, ir.Path)
		}
		role := Role(RoleOptions{}).Draw(t, "role")
		if len(role.Rules) == 0 {
			role.Rules = []impersonation.Rule{{ImpersonationRuleId: "r0", Effect: policy.Allow}}
		}
		i := rapid.IntRange(0, len(role.Rules)-1).Draw(t, "rule")
		// Work on the generic form: a map for the role, maps for its rules;
		// member names are injected as raw JSON.
		bad := func(b []byte, class, path string) Invalid[[]byte] {
			return invalid(b, "D2", class, policy.ValidationException, path)
		}
		rp := fmt.Sprintf("Rules[%d]", i)
		switch rapid.IntRange(0, 6).Draw(t, "class") {
		case 0:
			if rapid.Bool().Draw(t, "top?") {
				m := rapid.SampledFrom([]string{"RoleName", "RoleId", "Id", "Rule"}).Draw(t, "member")
				return bad(encodeRoleWith(role, -1, fmt.Sprintf(`"%s":"x"`, m)), "unknown field", m)
			}
			m := rapid.SampledFrom([]string{"NotTargetUser", "TargetUser", "RuleId", "Users"}).Draw(t, "member")
			return bad(encodeRoleWith(role, i, fmt.Sprintf(`"%s":["alice"]`, m)), "unknown field", rp+"."+m)
		case 1:
			if rapid.Bool().Draw(t, "top?") {
				m := rapid.SampledFrom([]string{"name", "TYPE", "rules", "description"}).Draw(t, "member")
				return bad(encodeRoleWith(role, -1, fmt.Sprintf(`"%s":"x"`, m)), "wrong-case field", m)
			}
			m := rapid.SampledFrom([]string{"targetUsers", "NOTTARGETUSERS", "effect", "impersonationRuleId"}).Draw(t, "member")
			return bad(encodeRoleWith(role, i, fmt.Sprintf(`"%s":"x"`, m)), "wrong-case field", rp+"."+m)
		case 2:
			if rapid.Bool().Draw(t, "top?") {
				return bad(encodeRoleWith(role, -1, `"Name":"dup"`), "duplicate field", "Name")
			}
			return bad(encodeRoleWith(role, i, `"Effect":"DENY"`), "duplicate field", rp+".Effect")
		case 3:
			role.Rules[i].TargetUsers = nil
			return bad(encodeRoleWith(role, i, `"TargetUsers":"alice"`), "wrong JSON type", rp+".TargetUsers")
		case 4:
			if rapid.Bool().Draw(t, "type?") {
				b := encodeRoleWith(role, -1, "")
				b = replaceMember(b, `"Type":`, 0, rapid.SampledFrom([]string{`"full_access"`, `"ReadOnly"`, `"READ-ONLY"`, `""`}).Draw(t, "type"))
				return bad(b, "invalid type", "Type")
			}
			b := encodeRoleWith(role, -1, "")
			b = replaceMember(b, `"Effect":`, i, rapid.SampledFrom([]string{`"allow"`, `"Deny"`, `""`}).Draw(t, "effect"))
			return bad(b, "invalid effect", rp+".Effect")
		case 5:
			role.Description = ""
			return bad(encodeRoleWith(role, -1, `"Description":"caf`+"\xe9"+`"`), "invalid UTF-8", "Description")
		default:
			b := encodeRoleWith(role, -1, "")
			switch rapid.IntRange(0, 2).Draw(t, "syntax") {
			case 0:
				b = append(b[:len(b)-1:len(b)-1], []byte(",}")...) // trailing comma
			case 1:
				b = append(b, 'x') // data after the value
			default:
				b = b[:len(b)-1] // truncated
			}
			return bad(b, "syntax error", "")
		}
	})
}

func roleEncodable(ir Invalid[impersonation.Role]) bool {
	b, err := json.Marshal(ir.Value)
	if err != nil {
		return false
	}
	var back impersonation.Role
	if json.Unmarshal(b, &back) != nil {
		return false
	}
	b2, err := json.Marshal(back)
	return err == nil && string(b) == string(b2) && back.Name == ir.Value.Name && back.Description == ir.Value.Description &&
		len(back.Rules) == len(ir.Value.Rules) && rolesTextEqual(back, ir.Value)
}

func rolesTextEqual(a, b impersonation.Role) bool {
	if a.ImpersonationRoleId != b.ImpersonationRoleId {
		return false
	}
	for i := range a.Rules {
		x, y := a.Rules[i], b.Rules[i]
		if x.ImpersonationRuleId != y.ImpersonationRuleId || x.Name != y.Name || x.Description != y.Description ||
			!slices.Equal(x.TargetUsers, y.TargetUsers) || !slices.Equal(x.NotTargetUsers, y.NotTargetUsers) ||
			(x.TargetUsers == nil) != (y.TargetUsers == nil) || (x.NotTargetUsers == nil) != (y.NotTargetUsers == nil) {
			return false
		}
	}
	return true
}

// encodeRoleWith encodes role, with member (a `"Key":value` pair) injected
// first into rule i's object, or into the role's object when i < 0.
func encodeRoleWith(role impersonation.Role, i int, member string) []byte {
	if member == "" {
		b, err := json.Marshal(role)
		if err != nil {
			panic("policytest: " + err.Error())
		}
		return b
	}
	if i < 0 {
		b, err := json.Marshal(role)
		if err != nil {
			panic("policytest: " + err.Error())
		}
		return append([]byte("{"+member+","), b[1:]...)
	}
	rules := role.Rules
	role.Rules = nil
	head, err := json.Marshal(role)
	if err != nil {
		panic("policytest: " + err.Error())
	}
	// head ends with `"Rules":[]...}`; rebuild the rules array by hand.
	var arr []byte
	arr = append(arr, '[')
	for j, r := range rules {
		if j > 0 {
			arr = append(arr, ',')
		}
		rb, err := json.Marshal(r)
		if err != nil {
			panic("policytest: " + err.Error())
		}
		if j == i {
			rb = append([]byte("{"+member+","), rb[1:]...)
		}
		arr = append(arr, rb...)
	}
	arr = append(arr, ']')
	k := indexOf(head, []byte(`"Rules":[]`))
	return append(append(append([]byte(nil), head[:k+len(`"Rules":`)]...), arr...), head[k+len(`"Rules":[]`):]...)
}

func indexOf(b, sub []byte) int {
	for k := 0; k+len(sub) <= len(b); k++ {
		if string(b[k:k+len(sub)]) == string(sub) {
			return k
		}
	}
	panic("policytest: " + string(sub) + " not found")
}
