package policytest

import (
	"net/netip"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS A3 A4 A5 A9: the direction of a list edit is read from the
// lowering: an empty list is no condition, a Not list narrows, and an edit
// after which the rule matches the same requests — a repeated item, a range
// inside one listed, a rule A4 lets nothing match — is Neutral.
func TestSemanticsA3_ListEditDirections(t *testing.T) {
	user, role := userIDs[0], roleIDs[0]
	for _, c := range []struct {
		name          string
		effect        policy.Effect
		before, after accessctl.Rule
		want          Direction
	}{
		{"first action of an ALLOW rule", policy.Allow, accessctl.Rule{}, accessctl.Rule{Actions: []string{"IMAP"}}, Restricts},
		{"second action of an ALLOW rule", policy.Allow, accessctl.Rule{Actions: []string{"IMAP"}}, accessctl.Rule{Actions: []string{"IMAP", "EWS"}}, Grants},
		{"repeated action", policy.Allow, accessctl.Rule{Actions: []string{"IMAP"}}, accessctl.Rule{Actions: []string{"IMAP", "IMAP"}}, Neutral},
		{"not action of a DENY rule", policy.Deny, accessctl.Rule{}, accessctl.Rule{NotActions: []string{"IMAP"}}, Grants},
		{"last user of a DENY rule removed", policy.Deny, accessctl.Rule{UserIds: []string{user}}, accessctl.Rule{}, Restricts},
		{"not user removed from an ALLOW rule", policy.Allow, accessctl.Rule{NotUserIds: []string{user}}, accessctl.Rule{}, Grants},
		{"range inside one listed", policy.Allow, accessctl.Rule{IpRanges: []string{"10.0.0.0/8"}}, accessctl.Rule{IpRanges: []string{"10.0.0.0/8", "10.1.2.0/24"}}, Neutral},
		{"not range of a DENY rule", policy.Deny, accessctl.Rule{}, accessctl.Rule{NotIpRanges: []string{"10.0.0.0/8"}}, Grants},
		{"0.0.0.0/0 as the first range", policy.Allow, accessctl.Rule{}, accessctl.Rule{IpRanges: []string{"0.0.0.0/0"}}, Neutral},
		// A4: with users and roles listed nothing matches, before or after.
		{"edit of a rule A4 lets nothing match", policy.Allow,
			accessctl.Rule{UserIds: []string{user}, ImpersonationRoleIds: []string{role}},
			accessctl.Rule{UserIds: []string{user}, ImpersonationRoleIds: []string{role}, NotActions: []string{"IMAP"}}, Neutral},
		// A4: a user request always satisfies NotImpersonationRoleIds, so
		// only role requests are excluded.
		{"not role of an ALLOW rule", policy.Allow, accessctl.Rule{}, accessctl.Rule{NotImpersonationRoleIds: []string{role}}, Restricts},
		{"not role of a user rule", policy.Allow, accessctl.Rule{UserIds: []string{user}}, accessctl.Rule{UserIds: []string{user}, NotImpersonationRoleIds: []string{role}}, Neutral},
	} {
		c.before.Name, c.after.Name = "r", "r"
		c.before.Effect, c.after.Effect = c.effect, c.effect
		if got := listEdit(c.effect, c.before, c.after); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := listEdit(policy.Allow, accessctl.Rule{Name: "r", IpRanges: []string{"not a range"}}, accessctl.Rule{Name: "r"}); got != Mixed {
		t.Errorf("a rule that does not lower: %v, want mixed", got)
	}
}

// SEMANTICS A18: with a directory, an entry added to NotUserIds that names a
// user of UserIds another way narrows the rule, though the two strings
// differ: the edit is not Neutral (the lowering, without a directory, reads
// them as two users). Found in review: Monotone would have rejected the
// library's own ALLOW → DENY.
func TestSemanticsA18_UserListEditUnderDirectory(t *testing.T) {
	id, mail := "S-1-1-11-1111111111-2222222222-3333333333-0001", "alice@example.com"
	dir, err := policy.NewDirectory([]policy.User{{ID: id, Email: mail, State: "ENABLED"}})
	if err != nil {
		t.Fatal(err)
	}
	before := accessctl.Rule{Name: "r", Effect: policy.Allow, UserIds: []string{id}}
	after := before.Clone()
	after.NotUserIds = []string{mail}
	d := listDirection(before, after, "NotUserIds", false, false)
	req := accessctl.Request{IP: netip.MustParseAddr("10.0.0.1"), Action: accessctl.IMAP, UserID: id}
	eff := func(r accessctl.Rule) policy.Effect {
		p, err := accessctl.Compile([]accessctl.Rule{r}, accessctl.Options{Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		e, err := p.Effect(req)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if b, a := eff(before), eff(after); !d.Allows(b, a) {
		t.Errorf("direction %v, but with a directory the edit moves %v to %v", d, b, a)
	}
	// The same string twice is Neutral whatever the directory.
	dup := before.Clone()
	dup.UserIds = append(dup.UserIds, id)
	if d := listDirection(before, dup, "UserIds", true, true); d != Neutral {
		t.Errorf("a repeated user ID: %v, want neutral", d)
	}
}
