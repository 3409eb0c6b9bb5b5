package accessctl

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/cidr"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Request is one GetAccessControlEffect question in Go form (SEMANTICS A2): the
// client address, the protocol, and exactly one principal — a user or an
// impersonation role.
//
// A Request is a small value; build it once per login and pass it by value. Its
// zero value is invalid (no address, no action, no principal). Evaluation checks
// A10–A12 (IPv4 only, a valid action, exactly one principal, roles only with EWS);
// the string constraints of the wire shape (lengths, patterns) are checked by
// [GetAccessControlEffectInput.Request].
type Request struct {
	// IP is the client address. IPv4-mapped IPv6 addresses are unmapped; real IPv6
	// addresses and addresses with a zone are InvalidParameterException (A10).
	IP netip.Addr
	// Action is the protocol the client uses.
	Action Action
	// UserID names the user: with a directory, by ID, email, alias or user name
	// (A18); without one, by the exact string the rules use.
	UserID string
	// ImpersonationRoleID names the impersonation role, for EWS requests made
	// through impersonation.
	ImpersonationRoleID string
}

// check validates the structural rules A10–A12 and returns the IPv4 address.
func (r *Request) check() (uint32, error) {
	var a uint32
	if r.IP.Is4() { // the common case, inline
		a = addr4(r.IP)
	} else {
		var err error
		if a, err = cidr.AddrFrom(r.IP); err != nil {
			return 0, &policy.Error{Code: policy.InvalidParameterException, Path: "IpAddress", Message: err.Error()}
		}
	}
	if !r.Action.Valid() {
		return 0, &policy.Error{Code: policy.InvalidParameterException, Path: "Action", Message: fmt.Sprintf("invalid action %d", r.Action)}
	}
	switch {
	case r.UserID == "" && r.ImpersonationRoleID == "":
		return 0, errNoPrincipal
	case r.UserID != "" && r.ImpersonationRoleID != "":
		return 0, errTwoPrincipals
	case r.ImpersonationRoleID != "" && r.Action != EWS:
		return 0, &policy.Error{Code: policy.InvalidParameterException, Path: "Action",
			Message: fmt.Sprintf("an impersonation role can only be evaluated for EWS, not %s", r.Action)}
	}
	return a, nil
}

// addr4 is the IPv4 address ip (Is4) as a number. It inlines.
func addr4(ip netip.Addr) uint32 {
	b := ip.As4()
	return binary.BigEndian.Uint32(b[:])
}

var (
	errNoPrincipal = &policy.Error{Code: policy.InvalidParameterException,
		Message: "exactly one of UserId and ImpersonationRoleId is required: neither is given"}
	errTwoPrincipals = &policy.Error{Code: policy.InvalidParameterException,
		Message: "exactly one of UserId and ImpersonationRoleId is required: both are given"}
)

// GetAccessControlEffectInput is the wire shape of a GetAccessControlEffect
// request (the model's GetAccessControlEffectRequest). OrganizationId may be
// empty; when set it must be well formed (A13), but a compiled [Policy] does not
// otherwise use it: the policy already is one organization's.
type GetAccessControlEffectInput struct {
	OrganizationId      string `json:"OrganizationId,omitempty"`
	IpAddress           string `json:"IpAddress"`
	Action              string `json:"Action"`
	UserId              string `json:"UserId,omitempty"`
	ImpersonationRoleId string `json:"ImpersonationRoleId,omitempty"`
}

// Request checks the wire request and converts it to a [Request]. Checks, in
// order: OrganizationId, when set, matches m-[0-9a-f]{32} (ValidationException,
// A13); IpAddress is a strict dotted quad of at most 15 characters
// (ValidationException, A10); UserId has 1–256 characters (the model's minimum
// of 12 is not applied to requests, so that a user name such as "bob" can name a
// user through the directory, A18) and
// ImpersonationRoleId matches [a-zA-Z0-9_-]{1,64} (ValidationException, A13);
// Action is one of the seven (InvalidParameterException, A11); exactly one
// principal, and a role only with EWS (InvalidParameterException, A12). The first
// problem found is returned.
func (in *GetAccessControlEffectInput) Request() (Request, error) {
	if in.OrganizationId != "" && !policy.ValidOrganizationID(in.OrganizationId) {
		return Request{}, &policy.Error{Code: policy.ValidationException, Path: "OrganizationId",
			Message: fmt.Sprintf("organization ID %q must match m-[0-9a-f]{32}", truncate(in.OrganizationId, 64))}
	}
	a, err := cidr.ParseAddr(in.IpAddress)
	if err != nil {
		return Request{}, &policy.Error{Code: policy.ValidationException, Path: "IpAddress", Message: err.Error()}
	}
	if in.UserId != "" {
		if msg := checkRequestUserID(in.UserId); msg != "" {
			return Request{}, &policy.Error{Code: policy.ValidationException, Path: "UserId", Message: msg}
		}
	}
	if in.ImpersonationRoleId != "" {
		if msg := checkRoleID(in.ImpersonationRoleId); msg != "" {
			return Request{}, &policy.Error{Code: policy.ValidationException, Path: "ImpersonationRoleId", Message: msg}
		}
	}
	if !utf8.ValidString(in.Action) {
		return Request{}, &policy.Error{Code: policy.ValidationException, Path: "Action", Message: "invalid UTF-8"}
	}
	act, err := ParseAction(in.Action)
	if err != nil {
		return Request{}, &policy.Error{Code: policy.InvalidParameterException, Path: "Action", Message: invalidActionMessage(in.Action)}
	}
	r := Request{IP: cidr.AddrToNetip(a), Action: act, UserID: in.UserId, ImpersonationRoleID: in.ImpersonationRoleId}
	if _, err := r.check(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// GetAccessControlEffectOutput is the wire shape of a GetAccessControlEffect
// response: {"Effect": ..., "MatchedRules": [...]} exactly (A8). MatchedRules is
// never nil in an output the library produces, so it marshals as [] when empty.
type GetAccessControlEffectOutput struct {
	Effect       policy.Effect `json:"Effect"`
	MatchedRules []string      `json:"MatchedRules"`
}

// Reason says why a decision came out as it did; it is [policy.Reason].
type Reason = policy.Reason

// The reasons, as in package policy.
const (
	ImplicitDeny  = policy.ImplicitDeny  // no rule matched: DENY
	ExplicitDeny  = policy.ExplicitDeny  // a matching DENY rule decided
	ExplicitAllow = policy.ExplicitAllow // matching ALLOW rules and no DENY rule
)

// Match is one rule that matched a request.
type Match struct {
	Name   string
	Effect policy.Effect
}

// Decision is the full answer to a request (SEMANTICS A6–A8).
type Decision struct {
	// Effect is Allow or Deny.
	Effect policy.Effect
	// Reason says whether a DENY rule, an ALLOW rule, or nothing decided.
	Reason Reason
	// MatchedRules are the names of the matching rules whose effect is Effect,
	// in ascending byte order (A7). Empty (non-nil) on an implicit deny.
	MatchedRules []string
	// Matching lists every matching rule, of either effect, in ascending name order.
	Matching []Match
	// UserID is the user ID the request's principal resolved to through the
	// directory (A18), or the request's UserID as given when there is no
	// directory; "" for role requests.
	UserID string
	// UserState is the resolved user's State in the directory: "ENABLED",
	// "DISABLED" or "DELETED"; "" when the policy has no directory (the state
	// is unknown) and for role requests. GetAccessControlEffect ignores it, as
	// WorkMail's does: a DISABLED user can be ALLOWed. An enforcement point
	// must deny a user whose state is not ENABLED (SEMANTICS E2), so check
	// [Decision.UserEnabled] as well as Effect before letting anyone in.
	UserState string
}

// UserEnabled reports whether the decision's user is known to be ENABLED: false
// for a DISABLED or DELETED user, for a role request, and when the policy has no
// directory to say (fail closed, SEMANTICS E2).
func (d *Decision) UserEnabled() bool { return d.UserState == "ENABLED" }

// Output returns the wire shape of the decision.
func (d Decision) Output() GetAccessControlEffectOutput {
	m := d.MatchedRules
	if m == nil {
		m = []string{}
	}
	return GetAccessControlEffectOutput{Effect: d.Effect, MatchedRules: m}
}

// checkRequestUserID returns what is wrong with a request's UserId, or "".
func checkRequestUserID(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > MaxUserIDLength {
		return fmt.Sprintf("user ID is %d characters long: at most %d", n, MaxUserIDLength)
	}
	return ""
}
