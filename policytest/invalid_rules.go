package policytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"pgregory.net/rapid"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/internal/apipath"
	"github.com/wmpolicy/wmpolicy/policy"
)

// InvalidRule generates access-control rules that accessctl.ValidateRule
// rejects (SEMANTICS A1, A9, A11, A13). Each is a valid [Rule] with exactly one
// thing broken; Path is relative to the rule ("IpRanges[2]"). Classes:
//
//   - Name: empty, longer than 64, a character outside [a-zA-Z0-9_-] ('.',
//     ' ', 'é', '*'), invalid UTF-8 (A13);
//   - Effect: unset or out of range (A1);
//   - Description: longer than 255, a character outside U+0020–U+00FF
//     (control characters, U+0100, emoji), invalid UTF-8 (A13);
//   - IpRanges / NotIpRanges: an [InvalidRange] item (A9), more than 1024 items;
//   - Actions / NotActions: an [InvalidAction] item (InvalidParameterException,
//     A11), invalid UTF-8, more than 10 items;
//   - UserIds / NotUserIds: an item shorter than 12 or longer than 256
//     characters or with invalid UTF-8, more than 10 items (A13);
//   - ImpersonationRoleIds / Not…: an item empty, longer than 64 or outside
//     [a-zA-Z0-9_-], more than 10 items (A13).
//
// Code is ValidationException except for invalid actions. Shrinks toward a
// rule with an empty name.
func InvalidRule() *rapid.Generator[Invalid[accessctl.Rule]] {
	return rapid.Custom(func(t *rapid.T) Invalid[accessctl.Rule] {
		return drawInvalidRule(t, RuleName().Draw(t, "name"))
	})
}

func drawInvalidRule(t *rapid.T, name string) Invalid[accessctl.Rule] {
	r := drawRule(t, name, defaultRuleOptions.norm(), RangeString())
	bad := func(rule, class string, code policy.Code, path string) Invalid[accessctl.Rule] {
		return invalid(r, rule, class, code, path)
	}
	// setItem puts v into *list at a drawn index (replacing an item, or as the
	// only item of an empty list) and returns its path.
	setItem := func(field string, list *[]string, v string) string {
		if len(*list) == 0 {
			*list = []string{v}
			return field + "[0]"
		}
		*list = slices.Clone(*list)
		j := rapid.IntRange(0, len(*list)-1).Draw(t, "item")
		(*list)[j] = v
		return fmt.Sprintf("%s[%d]", field, j)
	}
	tooMany := func(g *rapid.Generator[string], n int) []string {
		out := make([]string, n+1)
		for i := range out {
			out[i] = g.Example(i)
		}
		return out
	}
	switch rapid.IntRange(0, 7).Draw(t, "field") {
	case 0:
		r.Name = rapid.SampledFrom([]string{"", repeat("n", accessctl.MaxNameLength+1), "rule.1", "rule 1", "règle", "*", "rule\xff"}).Draw(t, "bad name")
		return bad("A13", "invalid name", policy.ValidationException, "Name")
	case 1:
		r.Effect = policy.Effect(rapid.SampledFrom([]int{0, 3, 255}).Draw(t, "effect"))
		return bad("A1", "invalid effect", policy.ValidationException, "Effect")
	case 2:
		r.Description = rapid.SampledFrom([]string{
			repeat("d", accessctl.MaxDescription+1), repeat("ÿ", accessctl.MaxDescription+1),
			"tab\there", "new\nline", "Ā", "emoji 🙂", "bad \xff byte", "\x7f",
		}).Draw(t, "description")
		if r.Description == "\x7f" { // U+007F is inside U+0020–U+00FF: allowed (A13)
			r.Description = "\x1f"
		}
		return bad("A13", "invalid description", policy.ValidationException, "Description")
	case 3, 4:
		field, list := "IpRanges", &r.IpRanges
		if rapid.Bool().Draw(t, "not?") {
			field, list = "NotIpRanges", &r.NotIpRanges
		}
		if rapid.IntRange(0, 9).Draw(t, "too many?") == 9 {
			*list = tooMany(RangeString(), accessctl.MaxIPRanges)
			return bad("A13", "too many ranges", policy.ValidationException, field)
		}
		ir := InvalidRange().Draw(t, "range")
		return bad("A9", "range "+ir.Class, policy.ValidationException, setItem(field, list, ir.Value))
	case 5:
		field, list := "Actions", &r.Actions
		if rapid.Bool().Draw(t, "not?") {
			field, list = "NotActions", &r.NotActions
		}
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 0:
			*list = tooMany(rapid.SampledFrom(actionNames()), accessctl.MaxActions)
			return bad("A13", "too many actions", policy.ValidationException, field)
		case 1:
			return bad("A13", "invalid UTF-8", policy.ValidationException, setItem(field, list, "IMAP\xff"))
		}
		ia := InvalidAction().Draw(t, "action")
		return bad("A11", "action "+ia.Class, policy.InvalidParameterException, setItem(field, list, ia.Value))
	case 6:
		field, list := "UserIds", &r.UserIds
		if rapid.Bool().Draw(t, "not?") {
			field, list = "NotUserIds", &r.NotUserIds
		}
		if rapid.IntRange(0, 4).Draw(t, "too many?") == 4 {
			*list = tooMany(rapid.SampledFrom(userIDs), accessctl.MaxUserIDs)
			return bad("A13", "too many user IDs", policy.ValidationException, field)
		}
		v := rapid.SampledFrom([]string{"", "S-1-5-21-12", "bob", repeat("u", accessctl.MaxUserIDLength+1), "S-1-5-21-123\xff"}).Draw(t, "user")
		return bad("A13", "invalid user ID", policy.ValidationException, setItem(field, list, v))
	default:
		field, list := "ImpersonationRoleIds", &r.ImpersonationRoleIds
		if rapid.Bool().Draw(t, "not?") {
			field, list = "NotImpersonationRoleIds", &r.NotImpersonationRoleIds
		}
		if rapid.IntRange(0, 4).Draw(t, "too many?") == 4 {
			*list = tooMany(rapid.SampledFrom(roleIDs), accessctl.MaxRoleIDs)
			return bad("A13", "too many role IDs", policy.ValidationException, field)
		}
		v := rapid.SampledFrom([]string{"", repeat("r", accessctl.MaxRoleIDLength+1), "role.1", "role 1", "rôle", "role\xff"}).Draw(t, "role")
		return bad("A13", "invalid role ID", policy.ValidationException, setItem(field, list, v))
	}
}

// InvalidRules generates rule lists that accessctl.ValidateRules, Compile and
// (encoded) DecodeRules reject: a valid [Rules] list (at least one rule) in
// which one rule is replaced by an [InvalidRule] (its class, with the path
// prefixed "Rules[i]."), or (A15b) to which a rule is added that repeats an
// earlier rule's name (Path "Rules[k].Name" of the later one; names that differ
// only in case are not duplicates and are not generated as such).
//
// Shrinks toward a one-rule list whose rule has an empty name.
func InvalidRules() *rapid.Generator[Invalid[[]accessctl.Rule]] {
	return rapid.Custom(func(t *rapid.T) Invalid[[]accessctl.Rule] {
		o := defaultRuleOptions
		o.MinRules = 1
		rules := Rules(o).Draw(t, "rules")
		if rapid.IntRange(0, 3).Draw(t, "duplicate?") == 3 {
			j := rapid.IntRange(0, len(rules)-1).Draw(t, "original")
			dup := drawRule(t, rules[j].Name, o.norm(), RangeString())
			k := rapid.IntRange(j+1, len(rules)).Draw(t, "at")
			rules = slices.Insert(rules, k, dup)
			return invalid(rules, "A15b", "duplicate name", policy.ValidationException, fmt.Sprintf("Rules[%d].Name", k))
		}
		i := rapid.IntRange(0, len(rules)-1).Draw(t, "which")
		ir := drawInvalidRule(t, rules[i].Name)
		rules[i] = ir.Value
		return invalid(rules, ir.Rule, ir.Class, ir.Code, apipath.Join(fmt.Sprintf("Rules[%d]", i), ir.Path))
	})
}

// InvalidRulesJSON generates `aws workmail list-access-control-rules` output
// that accessctl.DecodeRules rejects, with the path DecodeRules reports:
//
//   - D2, the strict decoder: an unknown member ("NotIpRange", "IpRange",
//     "Action", "UserId" — the typos that would silently widen a rule), a
//     member in the wrong case ("ipRanges", "EFFECT", "rules" at the top), a
//     duplicated member, a value of the wrong JSON type, an effect that is not
//     exactly ALLOW or DENY, invalid UTF-8 in a string (ValidationException with
//     the member's path); a syntax error (trailing comma, trailing data, empty
//     input, truncation; Path "", as these are errors of the whole document);
//   - A9–A13, A15b: any [InvalidRules] list that encodes faithfully, encoded.
//
// Shrinks toward an unknown member in the first rule.
func InvalidRulesJSON() *rapid.Generator[Invalid[[]byte]] {
	return rapid.Custom(func(t *rapid.T) Invalid[[]byte] {
		if rapid.IntRange(0, 4).Draw(t, "semantic?") == 4 {
			ir := InvalidRules().Filter(encodable).Draw(t, "rules")
			b, err := json.Marshal(accessctl.ListAccessControlRulesOutput{Rules: ir.Value})
			if err != nil {
				panic("policytest: " + err.Error())
			}
			return invalid(b, ir.Rule, ir.Class, ir.Code, ir.Path)
		}
		o := defaultRuleOptions
		o.MinRules = 1
		rules := Rules(o).Draw(t, "rules")
		i := rapid.IntRange(0, len(rules)-1).Draw(t, "which")
		bad := func(class, member, inject string) Invalid[[]byte] {
			return invalid(encodeWith(rules, i, inject), "D2", class, policy.ValidationException, fmt.Sprintf("Rules[%d].%s", i, member))
		}
		switch rapid.IntRange(0, 7).Draw(t, "class") {
		case 0:
			m := rapid.SampledFrom([]string{"NotIpRange", "IpRange", "Action", "NotAction", "UserId", "NotUserId", "ImpersonationRoleId", "Priority"}).Draw(t, "member")
			return bad("unknown field", m, fmt.Sprintf(`"%s":["10.0.0.0/8"]`, m))
		case 1:
			m := rapid.SampledFrom([]string{"ipRanges", "notIpRanges", "ACTIONS", "userIds", "name", "EFFECT", "description", "Notuserids"}).Draw(t, "member")
			return bad("wrong-case field", m, fmt.Sprintf(`"%s":[]`, m))
		case 2:
			m := rapid.SampledFrom([]string{"Name", "Effect"}).Draw(t, "member")
			v := map[string]string{"Name": `"dup"`, "Effect": `"DENY"`}[m]
			return bad("duplicate field", m, fmt.Sprintf(`"%s":%s`, m, v))
		case 3:
			m := rapid.SampledFrom([]string{"IpRanges", "NotActions", "UserIds"}).Draw(t, "member")
			clearMember(&rules[i], m)
			return bad("wrong JSON type", m, fmt.Sprintf(`"%s":%s`, m, rapid.SampledFrom([]string{`"10.0.0.0/8"`, `{}`, `1`, `true`}).Draw(t, "value")))
		case 4:
			b := encodeWith(rules, i, "")
			eff := rapid.SampledFrom([]string{`"allow"`, `"Deny"`, `"PERMIT"`, `""`, `1`}).Draw(t, "effect")
			b = replaceMember(b, `"Effect":`, i, eff)
			return invalid(b, "D2", "invalid effect", policy.ValidationException, fmt.Sprintf("Rules[%d].Effect", i))
		case 5:
			rules[i].Description = ""
			return bad("invalid UTF-8", "Description", `"Description":"caf`+"\xe9"+`"`)
		case 6:
			top := rapid.SampledFrom([]string{"rules", "RULES", "Rule"}).Draw(t, "top")
			return invalid(encodeTop(rules, top), "D2", "wrong-case field", policy.ValidationException, top)
		default:
			b := encodeWith(rules, i, "")
			var s []byte
			switch rapid.IntRange(0, 3).Draw(t, "syntax") {
			case 0:
				s = append(b[:len(b)-1:len(b)-1], []byte(",}")...) // trailing comma
			case 1:
				s = append(b, []byte(` {}`)...) // data after the value
			case 2:
				s = []byte{} // empty input
			default:
				s = b[:len(b)-1] // truncated
			}
			return invalid(s, "D2", "syntax error", policy.ValidationException, "")
		}
	})
}

// encodable reports whether json.Marshal writes ir's rules faithfully: valid
// UTF-8 everywhere (Marshal would replace invalid bytes) and valid effects
// (Marshal refuses others).
func encodable(ir Invalid[[]accessctl.Rule]) bool {
	for _, r := range ir.Value {
		if !r.Effect.Valid() {
			return false
		}
		b, err := json.Marshal(r)
		if err != nil {
			return false
		}
		var back accessctl.Rule
		if json.Unmarshal(b, &back) != nil || !ruleEqual(back, r) {
			return false
		}
	}
	return true
}

func ruleEqual(a, b accessctl.Rule) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return bytes.Equal(ab, bb) && a.Name == b.Name && a.Description == b.Description &&
		slices.Equal(a.IpRanges, b.IpRanges) && slices.Equal(a.NotIpRanges, b.NotIpRanges) &&
		slices.Equal(a.Actions, b.Actions) && slices.Equal(a.NotActions, b.NotActions) &&
		slices.Equal(a.UserIds, b.UserIds) && slices.Equal(a.NotUserIds, b.NotUserIds) &&
		slices.Equal(a.ImpersonationRoleIds, b.ImpersonationRoleIds) && slices.Equal(a.NotImpersonationRoleIds, b.NotImpersonationRoleIds)
}

// encodeWith encodes rules as list-access-control-rules output, with member
// (a `"Key":value` pair, or "") injected first into rule i's object.
func encodeWith(rules []accessctl.Rule, i int, member string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Rules":[`)
	for j, r := range rules {
		if j > 0 {
			b.WriteByte(',')
		}
		rb, err := json.Marshal(r)
		if err != nil {
			panic("policytest: " + err.Error())
		}
		if j == i && member != "" {
			b.WriteString("{" + member + ",")
			b.Write(rb[1:])
			continue
		}
		b.Write(rb)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// encodeTop encodes rules under the top-level member name top instead of "Rules".
func encodeTop(rules []accessctl.Rule, top string) []byte {
	b := encodeWith(rules, -1, "")
	return append([]byte(`{"`+top+`"`), b[len(`{"Rules"`):]...)
}

// replaceMember replaces the string value of the i-th occurrence of member
// (`"Key":`) in b with v. Objects are written one after another, and member
// names cannot occur unescaped inside strings, so the i-th occurrence of
// `"Effect":` in rules output is rule i's.
func replaceMember(b []byte, member string, i int, v string) []byte {
	key := []byte(member)
	off := 0
	for n := 0; ; n++ {
		k := bytes.Index(b[off:], key)
		if k < 0 {
			panic("policytest: no " + member + " member")
		}
		off += k + len(key)
		if n == i {
			break
		}
	}
	end := off + bytes.IndexByte(b[off+1:], '"') + 2
	return append(append(append([]byte(nil), b[:off]...), v...), b[end:]...)
}

func clearMember(r *accessctl.Rule, m string) {
	switch m {
	case "IpRanges":
		r.IpRanges = nil
	case "NotActions":
		r.NotActions = nil
	case "UserIds":
		r.UserIds = nil
	}
}
