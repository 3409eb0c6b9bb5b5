package analysis

import (
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Grant is a set of allowed requests of one principal: every address of
// every range × every action listed.
type Grant struct {
	Actions []accessctl.Action
	// Ranges are the allowed addresses, non-empty; [AddrSet.String] renders
	// them as "everywhere", "everywhere except …" or a CIDR list.
	Ranges AddrSet
}

// PrincipalAccess is everything one principal may do (see
// [Analyzer.WhoCanPrincipal]).
type PrincipalAccess struct {
	// Principal is the class the asked principal belongs to; Principal.ID is
	// "" when no rule names it ("any other user/role").
	Principal Principal
	// Asked is the identifier as asked, UserID the user ID it resolved to
	// ("" for a role).
	Asked, UserID string
	// Grants are the allowed requests, actions with the same allowed
	// addresses together, in action order; empty when nothing is allowed.
	// Actions absent from every grant are denied from every address.
	Grants []Grant
}

// WhoCanPrincipal returns the exact set of requests the user (kind User) or
// impersonation role (kind Role, EWS only, A12) named id may make: for each
// action, the IPv4 ranges from which it is allowed. With a directory, id may
// be a user ID, email, alias or user name (A18); an unknown user is
// EntityNotFoundException; with Options.Roles, a role not listed is
// ResourceNotFoundException.
//
// Cost: building the decomposition plus O(intervals × actions); it honours
// ctx and the budgets of [Options] (a *[BudgetError] and no answer).
func (a *Analyzer) WhoCanPrincipal(ctx context.Context, kind PrincipalKind, id string) (*PrincipalAccess, error) {
	if id == "" {
		return nil, policy.Errorf(policy.InvalidParameterException, "", "an identifier is required")
	}
	out := &PrincipalAccess{Asked: id}
	switch kind {
	case User:
		out.UserID = id
		if a.dir != nil {
			u, ok := a.dir.Lookup(id)
			if !ok || u.ID == "" {
				return nil, policy.Errorf(policy.EntityNotFoundException, "UserId", fmt.Sprintf("no user %q in the directory", id))
			}
			out.UserID = u.ID
		}
	case Role:
		if err := a.knownRole(id); err != nil {
			return nil, err
		}
	default:
		return nil, policy.Errorf(policy.InvalidParameterException, "", "the principal kind must be User or Role")
	}
	s, err := newSpace(ctx, a.opts, a)
	if err != nil {
		return nil, err
	}
	want := id
	if kind == User {
		want = out.UserID
	}
	pi := -1
	for i, p := range s.prin {
		if p.Kind == kind && (p.ID == want || (p.ID == "" && pi < 0)) {
			pi = i
		}
	}
	if pi < 0 {
		return nil, policy.Errorf(policy.InvalidParameterException, "", "no principal class for "+id) // unreachable: the ID resolved
	}
	out.Principal = s.prin[pi]
	if out.Principal.Other() {
		out.Principal.Witness = want
	}
	b := s.sets[0]
	var byAction [accessctl.NumActions + 1]AddrSet
	total := 0
	for j, cl := range s.cols {
		if int(cl.p) != pi {
			continue
		}
		allowed := make([]bool, len(b.first)) // per distinct IP bitset
		for u := range allowed {
			allowed[u] = b.allow(int32(u), j)
		}
		var rs AddrSet
		open := false
		for i, iv := range s.ivs {
			if i&4095 == 0 {
				if err := checkCtx(ctx); err != nil {
					return nil, err
				}
			}
			allow := allowed[b.cu[iv.Class]]
			switch {
			case allow && !open:
				rs = append(rs, AddrRange{First: iv.First})
				open = true
			case !allow && open:
				rs[len(rs)-1].Last = iv.First - 1
				open = false
			}
		}
		if open {
			rs[len(rs)-1].Last = ^uint32(0)
		}
		total += len(rs)
		if total > a.opts.maxRegions() {
			return nil, &BudgetError{Resource: "regions", Need: -1, Limit: int64(a.opts.maxRegions())}
		}
		byAction[cl.act] = rs
	}
	for _, act := range accessctl.Actions() {
		rs := byAction[act]
		if len(rs) == 0 {
			continue
		}
		found := false
		for i := range out.Grants {
			if slices.Equal(out.Grants[i].Ranges, rs) {
				out.Grants[i].Actions = append(out.Grants[i].Actions, act)
				found = true
				break
			}
		}
		if !found {
			out.Grants = append(out.Grants, Grant{Actions: []accessctl.Action{act}, Ranges: rs})
		}
	}
	return out, nil
}

// RequestAccess answers "who may make this request" (see
// [Analyzer.WhoCanRequest]).
type RequestAccess struct {
	Action accessctl.Action
	Addr   netip.Addr
	// Allowed and Denied partition the principal classes that can make the
	// request (roles only for EWS, A12): every user and role a rule names, and
	// "any other user/role" when such principals exist.
	Allowed, Denied []Principal
}

// WhoCanRequest returns which principals may make a request with action from
// addr. An invalid action or address is InvalidParameterException (A10, A11).
// Cost: building the decomposition plus O(principals); honours ctx and
// the budgets of [Options].
func (a *Analyzer) WhoCanRequest(ctx context.Context, action accessctl.Action, addr netip.Addr) (*RequestAccess, error) {
	if !action.Valid() {
		return nil, policy.Errorf(policy.InvalidParameterException, "Action", fmt.Sprintf("invalid action %d", action))
	}
	ip, err := cidr.AddrFrom(addr)
	if err != nil {
		return nil, policy.Errorf(policy.InvalidParameterException, "IpAddress", err.Error())
	}
	s, err := newSpace(ctx, a.opts, a)
	if err != nil {
		return nil, err
	}
	out := &RequestAccess{Action: action, Addr: cidr.AddrToNetip(ip)}
	c := s.table.Class(ip)
	for j, cl := range s.cols {
		if cl.act != action {
			continue
		}
		if s.sets[0].allow(s.sets[0].cu[c], j) {
			out.Allowed = append(out.Allowed, s.prin[cl.p])
		} else {
			out.Denied = append(out.Denied, s.prin[cl.p])
		}
	}
	return out, nil
}

// knownRole returns ResourceNotFoundException when Options.Roles is given and
// does not list the role id; nil for "" (no role) and when Roles is nil.
func (a *Analyzer) knownRole(id string) error {
	if id == "" || a.known == nil || a.known[id] {
		return nil
	}
	return policy.Errorf(policy.ResourceNotFoundException, "ImpersonationRoleId", fmt.Sprintf("no impersonation role %q", id))
}
