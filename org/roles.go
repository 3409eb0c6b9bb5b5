package org

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// checkRoleID returns the ValidationException of a malformed or missing role ID.
func checkRoleID(id string) error {
	r := impersonation.Role{ImpersonationRoleId: id, Name: "x", Type: impersonation.FullAccess}
	if id == "" {
		return policy.Errorf(policy.ValidationException, "ImpersonationRoleId", "ImpersonationRoleId is required")
	}
	return impersonation.ValidateRole(r)
}

func roleNotFound(id string) error {
	return policy.Errorf(policy.ResourceNotFoundException, "ImpersonationRoleId", fmt.Sprintf("impersonation role %s not found", truncate(id, 64)))
}

// newUUID returns a random (version 4) UUID.
func (s *Store) newUUID() (string, error) {
	b, err := s.randomBytes(16)
	if err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// roleParams is what a CreateImpersonationRole ClientToken is bound to.
type roleParams struct {
	Name        string
	Type        impersonation.Type
	Description string
	Rules       []impersonation.Rule
}

// CreateImpersonationRole creates a role with a new random UUID as its ID
// (SEMANTICS B5). Errors: ValidationException for a malformed role (B1, every
// problem with its path) or ClientToken; EntityNotFoundException for a
// TargetUsers or NotTargetUsers entry the directory does not know (B2);
// InvalidParameterException for a Name another role of the organization has,
// and for a ClientToken reused with other parameters within 24 hours;
// LimitExceededException when the organization already has RoleLimit roles (20
// by default). A repeat with the same ClientToken and parameters within 24
// hours returns the first call's ID and creates nothing.
func (s *Store) CreateImpersonationRole(ctx context.Context, in CreateImpersonationRoleInput) (CreateImpersonationRoleOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return CreateImpersonationRoleOutput{}, err
	}
	role := impersonation.Role{Name: in.Name, Type: in.Type, Description: in.Description, Rules: in.Rules}.Clone()
	var errs policy.ErrorList
	if err := impersonation.ValidateRole(role); err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if in.ClientToken != "" {
		if m := checkClientToken(in.ClientToken); m != "" {
			errs = append(errs, policy.Errorf(policy.ValidationException, "ClientToken", m))
		}
	}
	if err := errs.Err(); err != nil {
		return CreateImpersonationRoleOutput{}, err
	}
	var out CreateImpersonationRoleOutput
	err := s.mutate(ctx, in.OrganizationId, func(snap *Snapshot) (*record, error) {
		prev := snap.rec
		now := s.now()
		var hash string
		tokens := prev.RoleTokens[:0:0]
		for _, t := range prev.RoleTokens { // forget expired tokens
			if now-t.Date < policy.Timestamp(ClientTokenLifetime) {
				tokens = append(tokens, t)
			}
		}
		if in.ClientToken != "" {
			params := roleParams{role.Name, role.Type, role.Description, role.Rules}
			if len(params.Rules) == 0 {
				params.Rules = nil // absent and [] are the same request
			}
			hash = paramHash(params)
			for _, t := range tokens {
				if t.ClientToken == in.ClientToken {
					if t.Hash != hash {
						return nil, policy.Errorf(policy.InvalidParameterException, "ClientToken",
							"the ClientToken was used with different parameters within the last 24 hours")
					}
					out.ImpersonationRoleId = t.Id
					return nil, nil
				}
			}
		}
		for _, r := range prev.Roles {
			if r.Name == role.Name {
				return nil, policy.Errorf(policy.InvalidParameterException, "Name",
					fmt.Sprintf("the organization already has an impersonation role named %q (%s)", r.Name, r.ImpersonationRoleId))
			}
		}
		if len(prev.Roles) >= s.roleLimit {
			return nil, policy.Errorf(policy.LimitExceededException, "",
				fmt.Sprintf("the organization already has %d impersonation roles, the limit", len(prev.Roles)))
		}
		if _, err := impersonation.Compile(role, snap.dir); err != nil {
			return nil, err
		}
		// A new ID is never one a role or a rule of the organization uses:
		// a rule naming a deleted role must not start matching a new one.
		var id string
		for {
			var err error
			if id, err = s.newUUID(); err != nil {
				return nil, err
			}
			if snap.roles[id] == nil && !ruleNamesRole(prev.Rules, id) {
				break
			}
		}
		role.ImpersonationRoleId = id
		role.DateCreated, role.DateModified = now, now
		rec := prev.clone()
		rec.Roles = append(append(make([]impersonation.Role, 0, len(prev.Roles)+1), prev.Roles...), role)
		sortRoles(rec.Roles)
		if in.ClientToken != "" {
			tokens = append(tokens, tokenRecord{ClientToken: in.ClientToken, Hash: hash, Id: id, Date: now})
		}
		rec.RoleTokens = tokens
		out.ImpersonationRoleId = id
		return rec, nil
	})
	if err != nil && !errors.Is(err, ErrDurabilityUncertain) {
		return CreateImpersonationRoleOutput{}, err
	}
	return out, err // with ErrDurabilityUncertain the role exists
}

// GetImpersonationRole returns a copy of a role (the model's
// GetImpersonationRoleResponse); an unknown role is ResourceNotFoundException.
func (s *Store) GetImpersonationRole(ctx context.Context, in GetImpersonationRoleInput) (impersonation.Role, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return impersonation.Role{}, err
	}
	if err := checkRoleID(in.ImpersonationRoleId); err != nil {
		return impersonation.Role{}, err
	}
	r := snap.roleIndex(in.ImpersonationRoleId)
	if r == nil {
		return impersonation.Role{}, roleNotFound(in.ImpersonationRoleId)
	}
	return r.Clone(), nil
}

// UpdateImpersonationRole replaces a role's Name, Type, Description (absent
// clears it) and Rules whole, keeps DateCreated and sets DateModified to now
// (SEMANTICS B6). An unknown role is ResourceNotFoundException; other errors
// are those of CreateImpersonationRole.
func (s *Store) UpdateImpersonationRole(ctx context.Context, in UpdateImpersonationRoleInput) (UpdateImpersonationRoleOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return UpdateImpersonationRoleOutput{}, err
	}
	if err := checkRoleID(in.ImpersonationRoleId); err != nil {
		return UpdateImpersonationRoleOutput{}, err
	}
	role := impersonation.Role{Name: in.Name, Type: in.Type, Description: in.Description, Rules: in.Rules}.Clone()
	if err := impersonation.ValidateRole(role); err != nil {
		return UpdateImpersonationRoleOutput{}, err
	}
	err := s.mutate(ctx, in.OrganizationId, func(snap *Snapshot) (*record, error) {
		prev := snap.rec
		old := snap.roleIndex(in.ImpersonationRoleId)
		if old == nil {
			return nil, roleNotFound(in.ImpersonationRoleId)
		}
		for _, r := range prev.Roles {
			if r.Name == role.Name && r.ImpersonationRoleId != in.ImpersonationRoleId {
				return nil, policy.Errorf(policy.InvalidParameterException, "Name",
					fmt.Sprintf("the organization already has an impersonation role named %q (%s)", r.Name, r.ImpersonationRoleId))
			}
		}
		role.ImpersonationRoleId = in.ImpersonationRoleId
		if _, err := impersonation.Compile(role, snap.dir); err != nil {
			return nil, err
		}
		role.DateCreated = old.DateCreated
		role.DateModified = s.now()
		rec := prev.clone()
		rec.Roles = make([]impersonation.Role, 0, len(prev.Roles))
		for _, r := range prev.Roles {
			if r.ImpersonationRoleId == in.ImpersonationRoleId {
				r = role
			}
			rec.Roles = append(rec.Roles, r)
		}
		sortRoles(rec.Roles)
		return rec, nil
	})
	return UpdateImpersonationRoleOutput{}, err
}

// DeleteImpersonationRole deletes a role; an unknown role succeeds and changes
// nothing (B6). Access-control rules naming the role stay; the ID simply never
// matches again. Tokens of the role stop verifying (B8).
func (s *Store) DeleteImpersonationRole(ctx context.Context, in DeleteImpersonationRoleInput) (DeleteImpersonationRoleOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return DeleteImpersonationRoleOutput{}, err
	}
	if err := checkRoleID(in.ImpersonationRoleId); err != nil {
		return DeleteImpersonationRoleOutput{}, err
	}
	err := s.mutate(ctx, in.OrganizationId, func(snap *Snapshot) (*record, error) {
		prev := snap.rec
		for i, r := range prev.Roles {
			if r.ImpersonationRoleId == in.ImpersonationRoleId {
				rec := prev.clone()
				rec.Roles = append(append(make([]impersonation.Role, 0, len(prev.Roles)-1), prev.Roles[:i]...), prev.Roles[i+1:]...)
				return rec, nil
			}
		}
		return nil, nil
	})
	return DeleteImpersonationRoleOutput{}, err
}

// ListImpersonationRoles lists an organization's roles (SEMANTICS B7) in
// ascending byte order of Name, then ID, MaxResults (1–100, default 20) at a
// time, each item with ID, Name, Type and dates only. NextToken is opaque and
// continues after the last role of the previous page even if roles were added
// or removed since; a token not issued by this store for this organization's
// role listing is InvalidParameterException.
func (s *Store) ListImpersonationRoles(ctx context.Context, in ListImpersonationRolesInput) (impersonation.ListImpersonationRolesOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return impersonation.ListImpersonationRolesOutput{}, err
	}
	max, err := checkMaxResults(in.MaxResults, DefaultRolesPage)
	if err != nil {
		return impersonation.ListImpersonationRolesOutput{}, err
	}
	roles := snap.rec.Roles
	if in.NextToken != "" {
		k, err := s.openPageToken(in.NextToken, listRoles, in.OrganizationId)
		if err != nil {
			return impersonation.ListImpersonationRolesOutput{}, err
		}
		i := 0
		for i < len(roles) && !lessKey(k, [2]string{roles[i].Name, roles[i].ImpersonationRoleId}) {
			i++
		}
		roles = roles[i:]
	}
	out := impersonation.ListImpersonationRolesOutput{Roles: []impersonation.RoleSummary{}}
	for i, r := range roles {
		if i == max {
			last := roles[i-1]
			out.NextToken = s.pageToken(listRoles, in.OrganizationId, [2]string{last.Name, last.ImpersonationRoleId})
			break
		}
		out.Roles = append(out.Roles, r.Summary())
	}
	return out, nil
}

// GetImpersonationRoleEffect answers GetImpersonationRoleEffect for a role of
// the organization against its latest snapshot (SEMANTICS B2–B4): the input
// is checked (ValidationException, every problem), an unknown role is
// ResourceNotFoundException, an unknown target EntityNotFoundException and a
// target not ENABLED EntityStateException.
func (s *Store) GetImpersonationRoleEffect(ctx context.Context, in impersonation.GetImpersonationRoleEffectInput) (impersonation.GetImpersonationRoleEffectOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return impersonation.GetImpersonationRoleEffectOutput{}, err
	}
	if err := checkRoleID(in.ImpersonationRoleId); err != nil {
		return impersonation.GetImpersonationRoleEffectOutput{}, err
	}
	if err := in.Check(); err != nil {
		return impersonation.GetImpersonationRoleEffectOutput{}, err
	}
	ev := snap.roles[in.ImpersonationRoleId]
	if ev == nil {
		return impersonation.GetImpersonationRoleEffectOutput{}, roleNotFound(in.ImpersonationRoleId)
	}
	return ev.GetImpersonationRoleEffect(in)
}

// AssumeImpersonationRole issues an impersonation token for a role of the
// organization (SEMANTICS B8): {Token, ExpiresIn: 900}, signed with the
// store's current key, verifiable offline with Store.VerifyToken (or an
// impersonation.Verifier over the same keys). An unknown role is
// ResourceNotFoundException.
func (s *Store) AssumeImpersonationRole(ctx context.Context, in AssumeImpersonationRoleInput) (impersonation.AssumeImpersonationRoleOutput, error) {
	if _, err := s.live(in.OrganizationId); err != nil {
		return impersonation.AssumeImpersonationRoleOutput{}, err
	}
	if err := checkRoleID(in.ImpersonationRoleId); err != nil {
		return impersonation.AssumeImpersonationRoleOutput{}, err
	}
	return s.issuer.AssumeImpersonationRole(in.OrganizationId, in.ImpersonationRoleId)
}

// ruleNamesRole reports whether a rule names role id.
func ruleNamesRole(rules []accessctl.Rule, id string) bool {
	for _, r := range rules {
		for _, list := range [][]string{r.ImpersonationRoleIds, r.NotImpersonationRoleIds} {
			for _, x := range list {
				if x == id {
					return true
				}
			}
		}
	}
	return false
}
