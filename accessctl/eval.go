package accessctl

import (
	"fmt"
	"math/bits"

	"github.com/wmpolicy/wmpolicy/policy"
)

// principal finds the principal index of a checked request and, for users, the
// resolved user ID.
func (p *Policy) principal(r *Request) (int32, string, error) {
	if r.ImpersonationRoleID != "" {
		if i, ok := p.roles[r.ImpersonationRoleID]; ok {
			return i, "", nil
		}
		return p.other[kindRole], "", nil
	}
	if i, ok := p.users[r.UserID]; ok {
		return i, r.UserID, nil
	}
	if p.dir == nil {
		return p.other[kindUser], r.UserID, nil
	}
	u, ok := p.dir.Lookup(r.UserID)
	if !ok {
		return 0, "", &policy.Error{Code: policy.EntityNotFoundException, Path: "UserId",
			Message: fmt.Sprintf("no user %q in the directory", truncate(r.UserID, 64))}
	}
	if i, ok := p.users[u.ID]; ok {
		return i, u.ID, nil
	}
	return p.other[kindUser], u.ID, nil
}

// locate checks the request and returns the word offsets of its address set and
// its principal×action set.
func (p *Policy) locate(r *Request) (ipOff, paOff uint32, userID string, err error) {
	a, err := r.check()
	if err != nil {
		return 0, 0, "", err
	}
	pi, userID, err := p.principal(r)
	if err != nil {
		return 0, 0, "", err
	}
	return p.ipSet[p.ip.Class(a)], p.pa[int(pi)*NumActions+int(r.Action-1)], userID, nil
}

// Evaluate is the fast path: it returns the effect of the request and appends the
// names of the rules that decided it (A7: the matching rules whose effect equals
// the result, ascending by name; none on an implicit deny) to matched, returning
// the extended slice.
//
// It does not allocate when matched has room for the names (reuse one slice per
// goroutine: `names, eff, err := p.Evaluate(req, names[:0])`). An invalid request
// returns Deny, matched unchanged, and an error with its AWS code (A10–A12, A18).
// A nil *Policy denies everything.
func (p *Policy) Evaluate(r Request, matched []string) (policy.Effect, []string, error) {
	if p == nil {
		_, err := r.check()
		return policy.Deny, matched, err
	}
	ipOff, paOff, _, err := p.locate(&r)
	if err != nil {
		return policy.Deny, matched, err
	}
	if p.words == 1 {
		m := p.sets[ipOff] & p.sets[paOff]
		if d := m & p.deny[0]; d != 0 {
			return policy.Deny, p.appendNames(matched, 0, d), nil
		}
		if m != 0 {
			return policy.Allow, p.appendNames(matched, 0, m), nil
		}
		return policy.Deny, matched, nil
	}
	ip := p.sets[ipOff : ipOff+uint32(p.words)]
	pa := p.sets[paOff : paOff+uint32(p.words)]
	deny := p.deny[:len(ip)]
	pa = pa[:len(ip)]
	var anyDeny, anyMatch uint64
	for i := range ip {
		m := ip[i] & pa[i]
		anyMatch |= m
		anyDeny |= m & deny[i]
	}
	switch {
	case anyDeny != 0:
		for i := range ip {
			if d := ip[i] & pa[i] & deny[i]; d != 0 {
				matched = p.appendNames(matched, i, d)
			}
		}
		return policy.Deny, matched, nil
	case anyMatch != 0:
		for i := range ip {
			if m := ip[i] & pa[i]; m != 0 {
				matched = p.appendNames(matched, i, m)
			}
		}
		return policy.Allow, matched, nil
	}
	return policy.Deny, matched, nil
}

// Effect returns only the effect of the request; see [Policy.Evaluate].
func (p *Policy) Effect(r Request) (policy.Effect, error) {
	if p == nil {
		_, err := r.check()
		return policy.Deny, err
	}
	ipOff, paOff, _, err := p.locate(&r)
	if err != nil {
		return policy.Deny, err
	}
	var anyDeny, anyMatch uint64
	for i := 0; i < p.words; i++ {
		m := p.sets[int(ipOff)+i] & p.sets[int(paOff)+i]
		anyMatch |= m
		anyDeny |= m & p.deny[i]
	}
	if anyMatch == 0 || anyDeny != 0 {
		return policy.Deny, nil
	}
	return policy.Allow, nil
}

func (p *Policy) appendNames(dst []string, word int, m uint64) []string {
	base := word * 64
	for m != 0 {
		dst = append(dst, p.names[base+bits.TrailingZeros64(m)])
		m &= m - 1
	}
	return dst
}

// Decide returns the full decision for a request: effect, reason, the deciding
// rules (A7), every matching rule and the resolved user (A8). It allocates the
// slices of its answer; use [Policy.Evaluate] on hot paths.
func (p *Policy) Decide(r Request) (Decision, error) {
	if p == nil {
		if _, err := r.check(); err != nil {
			return Decision{}, err
		}
		return Decision{Effect: policy.Deny, Reason: ImplicitDeny, MatchedRules: []string{}}, nil
	}
	ipOff, paOff, userID, err := p.locate(&r)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{UserID: userID, MatchedRules: []string{}}
	var anyDeny bool
	for i := 0; i < p.words; i++ {
		m := p.sets[int(ipOff)+i] & p.sets[int(paOff)+i]
		for m != 0 {
			k := i*64 + bits.TrailingZeros64(m)
			m &= m - 1
			e := p.rules[k].Effect
			anyDeny = anyDeny || e == policy.Deny
			d.Matching = append(d.Matching, Match{Name: p.names[k], Effect: e})
		}
	}
	switch {
	case anyDeny:
		d.Effect, d.Reason = policy.Deny, ExplicitDeny
	case len(d.Matching) > 0:
		d.Effect, d.Reason = policy.Allow, ExplicitAllow
	default:
		d.Effect, d.Reason = policy.Deny, ImplicitDeny
	}
	if d.Reason != ImplicitDeny {
		for _, m := range d.Matching {
			if m.Effect == d.Effect {
				d.MatchedRules = append(d.MatchedRules, m.Name)
			}
		}
	}
	return d, nil
}

// GetAccessControlEffect answers a request in the wire shapes: it checks the input
// as [GetAccessControlEffectInput.Request] does and returns
// {"Effect", "MatchedRules"} (A7, A8), or an error with its AWS code.
func (p *Policy) GetAccessControlEffect(in GetAccessControlEffectInput) (GetAccessControlEffectOutput, error) {
	r, err := in.Request()
	if err != nil {
		return GetAccessControlEffectOutput{}, err
	}
	eff, names, err := p.Evaluate(r, []string{})
	if err != nil {
		return GetAccessControlEffectOutput{}, err
	}
	return GetAccessControlEffectOutput{Effect: eff, MatchedRules: names}, nil
}
