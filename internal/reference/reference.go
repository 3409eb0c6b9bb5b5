// Package reference is a literal, linear transcription of SEMANTICS section A
// (GetAccessControlEffect, [Evaluate]) and of B3–B4 (GetImpersonationRoleEffect,
// [EvaluateImpersonation]): no indexes, no precomputation, every rule and every
// list read anew for every request. It is slow on purpose and obviously correct,
// and it serves as the oracle that the compiled evaluators in accessctl and
// impersonation are tested against.
//
// Ranges are parsed with net/netip, not with the project's cidr package, so that
// the two implementations share as little as possible. Rules are assumed to have
// passed accessctl.ValidateRules.
package reference

import (
	"net/netip"
	"slices"
	"sort"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Result is the reference answer to one request.
type Result struct {
	Effect       policy.Effect
	Reason       accessctl.Reason
	MatchedRules []string // A7: matching rules with the winning effect, ascending name
	Matching     []string // every matching rule, ascending name
}

// Evaluate answers req against rules per SEMANTICS A2–A7 and A18 (dir may be nil).
func Evaluate(rules []accessctl.Rule, req accessctl.Request, dir policy.Directory) (Result, error) {
	// A10: IPv4 only; IPv4-mapped IPv6 is unmapped; IPv6 and zones are refused.
	addr := req.IP
	if !addr.IsValid() || addr.Zone() != "" {
		return Result{}, policy.Errorf(policy.InvalidParameterException, "IpAddress", "not an IPv4 address")
	}
	addr = addr.Unmap()
	if !addr.Is4() {
		return Result{}, policy.Errorf(policy.InvalidParameterException, "IpAddress", "IPv6 not supported")
	}
	// A11
	if !req.Action.Valid() {
		return Result{}, policy.Errorf(policy.InvalidParameterException, "Action", "invalid action")
	}
	// A12
	hasUser, hasRole := req.UserID != "", req.ImpersonationRoleID != ""
	if hasUser == hasRole {
		return Result{}, policy.Errorf(policy.InvalidParameterException, "", "exactly one of UserId and ImpersonationRoleId is required")
	}
	if hasRole && req.Action != accessctl.EWS {
		return Result{}, policy.Errorf(policy.InvalidParameterException, "Action", "roles only with EWS")
	}
	// A18: with a directory, every user identifier is resolved to the user's ID.
	userID := req.UserID
	if hasUser && dir != nil {
		u, ok := dir.Lookup(userID)
		if !ok {
			return Result{}, policy.Errorf(policy.EntityNotFoundException, "UserId", "unknown user")
		}
		userID = u.ID
	}
	resolve := func(ids []string) ([]string, error) {
		if dir == nil {
			return ids, nil
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			u, ok := dir.Lookup(id)
			if !ok {
				return nil, policy.Errorf(policy.EntityNotFoundException, "", "unknown user in a rule")
			}
			out[i] = u.ID
		}
		return out, nil
	}

	var res Result
	anyDeny, anyAllow := false, false
	for _, r := range rules {
		userIDs, err := resolve(r.UserIds)
		if err != nil {
			return Result{}, err
		}
		notUserIDs, err := resolve(r.NotUserIds)
		if err != nil {
			return Result{}, err
		}
		// A3: every non-empty list must hold. A4: a principal the request does not
		// carry is in no list.
		matches := true
		if len(r.IpRanges) > 0 && !inAnyRange(r.IpRanges, addr) {
			matches = false
		}
		if len(r.NotIpRanges) > 0 && inAnyRange(r.NotIpRanges, addr) {
			matches = false
		}
		action := req.Action.String()
		if len(r.Actions) > 0 && !slices.Contains(r.Actions, action) {
			matches = false
		}
		if len(r.NotActions) > 0 && slices.Contains(r.NotActions, action) {
			matches = false
		}
		if len(userIDs) > 0 && !(hasUser && slices.Contains(userIDs, userID)) {
			matches = false
		}
		if len(notUserIDs) > 0 && hasUser && slices.Contains(notUserIDs, userID) {
			matches = false
		}
		if len(r.ImpersonationRoleIds) > 0 && !(hasRole && slices.Contains(r.ImpersonationRoleIds, req.ImpersonationRoleID)) {
			matches = false
		}
		if len(r.NotImpersonationRoleIds) > 0 && hasRole && slices.Contains(r.NotImpersonationRoleIds, req.ImpersonationRoleID) {
			matches = false
		}
		if !matches {
			continue
		}
		res.Matching = append(res.Matching, r.Name)
		if r.Effect == policy.Deny {
			anyDeny = true
		} else {
			anyAllow = true
		}
	}
	// A6: deny overrides; nothing matched → DENY.
	switch {
	case anyDeny:
		res.Effect, res.Reason = policy.Deny, accessctl.ExplicitDeny
	case anyAllow:
		res.Effect, res.Reason = policy.Allow, accessctl.ExplicitAllow
	default:
		res.Effect, res.Reason = policy.Deny, accessctl.ImplicitDeny
	}
	// A7: the matching rules whose effect equals the result, ascending byte order.
	res.MatchedRules = []string{}
	if res.Reason != accessctl.ImplicitDeny {
		for _, r := range rules {
			if r.Effect == res.Effect && slices.Contains(res.Matching, r.Name) {
				res.MatchedRules = append(res.MatchedRules, r.Name)
			}
		}
	}
	sort.Strings(res.MatchedRules)
	sort.Strings(res.Matching)
	return res, nil
}

// inAnyRange reports whether addr lies in at least one of the ranges; a range with
// host bits set matches as its masked network (A9).
func inAnyRange(ranges []string, addr netip.Addr) bool {
	for _, s := range ranges {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			panic("reference: unparsable range " + s) // rules are validated first
		}
		if p.Masked().Contains(addr) {
			return true
		}
	}
	return false
}
