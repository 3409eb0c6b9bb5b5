package impersonation

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// EWSConfig is what an [EWSAuthorizer] decides with: one organization's
// compiled access-control rules, its compiled impersonation roles, and the key
// ring its impersonation tokens are signed with.
type EWSConfig struct {
	// OrganizationID is the organization (m-…); tokens of any other do not verify.
	OrganizationID string
	// AccessControl is the organization's compiled access-control policy; nil
	// denies everything (an organization without rules blocks all access, A6).
	AccessControl *accessctl.Policy
	// Roles are the organization's compiled roles. A token of a role not among
	// them (deleted since) does not verify. IDs must be unique.
	Roles []*Evaluator
	// Keys verify tokens; required.
	Keys *KeyRing
	// Clock and Leeway are as in [VerifierOptions].
	Clock  func() time.Time
	Leeway time.Duration
}

// EWSAuthorizer makes the impersonated-EWS decision of SEMANTICS B9: a request
// is allowed only when (1) its token verifies, (2) GetAccessControlEffect for
// (source IP, EWS, the token's role) is ALLOW, and (3) GetImpersonationRoleEffect
// for (the role, the target mailbox) is ALLOW.
//
// It is immutable and safe for concurrent use; when rules, roles or keys change,
// build a new one (cheap: it only indexes the roles) and swap it atomically.
type EWSAuthorizer struct {
	org      string
	ac       *accessctl.Policy
	verifier *Verifier
}

// NewEWSAuthorizer checks cfg and builds an authorizer. Every problem is
// reported as a ValidationException with its field.
func NewEWSAuthorizer(cfg EWSConfig) (*EWSAuthorizer, error) {
	var errs policy.ErrorList
	if !policy.ValidOrganizationID(cfg.OrganizationID) {
		errs = append(errs, policy.Errorf(policy.ValidationException, "OrganizationID",
			fmt.Sprintf("organization ID %q must match m-[0-9a-f]{32}", truncate(cfg.OrganizationID, 64))))
	}
	a := &EWSAuthorizer{org: cfg.OrganizationID, ac: cfg.AccessControl}
	roles := make(map[string]*Evaluator, len(cfg.Roles))
	for i, r := range cfg.Roles {
		switch {
		case r == nil || r.ID() == "":
			errs = append(errs, policy.Errorf(policy.ValidationException, fmt.Sprintf("Roles[%d]", i), "a compiled role with an ImpersonationRoleId is required"))
		case roles[r.ID()] != nil:
			errs = append(errs, policy.Errorf(policy.ValidationException, fmt.Sprintf("Roles[%d]", i), fmt.Sprintf("duplicate role ID %q", r.ID())))
		default:
			roles[r.ID()] = r
		}
	}
	// The verifier checks that the token's role is one of these (of this
	// organization) on the token's bytes, and hands back the compiled role.
	v, err := newVerifier(cfg.Keys, VerifierOptions{Clock: cfg.Clock, Leeway: cfg.Leeway}, roles, a.org)
	if err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	a.verifier = v
	return a, nil
}

// EWSStep names a step of the decision.
type EWSStep uint8

const (
	// StepNone: no step failed; the request is allowed.
	StepNone EWSStep = iota
	// StepToken: the token did not verify.
	StepToken
	// StepAccessControl: the access-control rules deny EWS to the role from the address.
	StepAccessControl
	// StepRole: the role does not allow impersonating the target.
	StepRole
)

// errNoAuthorizer is the TokenErr of a nil *EWSAuthorizer's decisions.
var errNoAuthorizer = errors.New("impersonation: nil *EWSAuthorizer: every request is denied")

// String returns "none", "token", "access control" or "role".
func (s EWSStep) String() string {
	switch s {
	case StepNone:
		return "none"
	case StepToken:
		return "token"
	case StepAccessControl:
		return "access control"
	case StepRole:
		return "role"
	}
	return fmt.Sprintf("EWSStep(%d)", uint8(s))
}

// EWSDecision is the answer to one impersonated EWS request, with the trace of
// all three steps. Steps 2 and 3 need the role the token names, so they run
// only when the token verifies; when it does, both run, so the trace shows
// every rule that matched even when step 2 already denies.
type EWSDecision struct {
	// Allowed is true only when all three steps allow.
	Allowed bool
	// Type is the role's type (READ_ONLY or FULL_ACCESS) when the token
	// verified, so that a READ_ONLY role can be kept from writing; zero otherwise.
	Type Type
	// Failed is the first step that did not allow (StepNone when Allowed).
	Failed EWSStep

	// Claims are the verified token's claims; TokenErr why it did not verify.
	Claims   TokenClaims
	TokenErr error
	// AccessControl is the access-control decision for (IP, EWS, role), and
	// AccessControlErr the error of an invalid request (such as an IPv6 source).
	AccessControl    accessctl.Decision
	AccessControlErr error
	// Role is the role's decision for the target, and RoleErr the error of a
	// target that is unknown or not enabled (EntityNotFound/EntityStateException).
	Role    Decision
	RoleErr error
}

// Authorize decides one impersonated EWS request: the token the client
// presented, the client's address, and the mailbox it wants (user ID, email or
// user name). It never returns Allowed with a failed step. Cost: one token
// verification, one access-control decision and one role decision; it
// allocates only their traces' slices (at most four allocations): the
// verified role ID is the compiled role's own string. [EWSAuthorizer.AuthorizeTo]
// reuses them instead. A nil *EWSAuthorizer denies every request: Failed is
// StepToken and TokenErr says why.
func (a *EWSAuthorizer) Authorize(token string, ip netip.Addr, target string) EWSDecision {
	var d EWSDecision
	a.AuthorizeTo(&d, token, ip, target)
	return d
}

// AuthorizeTo is [EWSAuthorizer.Authorize] writing its answer to *d, which it
// overwrites entirely, and reusing the capacity of the slices of d's two
// traces (see [accessctl.Policy.DecideTo] and [Evaluator.DecideTo]): with one
// EWSDecision reused per goroutine it allocates nothing. Keep no reference
// into d's slices across calls.
func (a *EWSAuthorizer) AuthorizeTo(d *EWSDecision, token string, ip netip.Addr, target string) {
	*d = EWSDecision{
		AccessControl: accessctl.Decision{MatchedRules: d.AccessControl.MatchedRules[:0], Matching: d.AccessControl.Matching[:0]},
		Role:          Decision{MatchedRules: d.Role.MatchedRules[:0], Matching: d.Role.Matching[:0]},
	}
	if a == nil {
		d.TokenErr, d.Failed = errNoAuthorizer, StepToken
		return
	}
	claims, role, err := a.verifier.verify(token, a.org)
	if err != nil {
		d.TokenErr, d.Failed = err, StepToken
		return
	}
	d.Claims = claims
	d.Type = role.Type()
	d.AccessControlErr = a.ac.DecideTo(&d.AccessControl, accessctl.Request{IP: ip, Action: accessctl.EWS, ImpersonationRoleID: claims.RoleID})
	acOK := d.AccessControlErr == nil && d.AccessControl.Effect == policy.Allow
	d.RoleErr = role.DecideTo(&d.Role, target)
	roleOK := d.RoleErr == nil && d.Role.Effect == policy.Allow
	switch {
	case !acOK:
		d.Failed = StepAccessControl
	case !roleOK:
		d.Failed = StepRole
	default:
		d.Allowed = true
	}
}
