package org

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The alias operations of SEMANTICS F5: CreateAlias, DeleteAlias and
// ListAliases, for users (the store has no groups or resources). An alias is
// one more email address of a user: rules and roles may name the user by it
// (A18, B2), and it is carried by export and import.

// MaxAliasesPerUser is the most aliases a user may have (WorkMail's quota);
// CreateAlias past it is LimitExceededException.
const MaxAliasesPerUser = 100

// DefaultAliasesPage is the page size of ListAliases when MaxResults is
// absent (pagination as B7).
const DefaultAliasesPage = 20

// CreateAliasInput is the model's CreateAliasRequest: EntityId names the user
// by ID, user name, email or alias.
type CreateAliasInput struct {
	OrganizationId string `json:"OrganizationId"`
	EntityId       string `json:"EntityId"`
	Alias          string `json:"Alias"`
}

// CreateAliasOutput is the model's empty CreateAliasResponse.
type CreateAliasOutput struct{}

// DeleteAliasInput is the model's DeleteAliasRequest.
type DeleteAliasInput struct {
	OrganizationId string `json:"OrganizationId"`
	EntityId       string `json:"EntityId"`
	Alias          string `json:"Alias"`
}

// DeleteAliasOutput is the model's empty DeleteAliasResponse.
type DeleteAliasOutput struct{}

// ListAliasesInput is the model's ListAliasesRequest. MaxResults nil means
// absent (the default page, 20); when set it must be 1–100.
type ListAliasesInput struct {
	OrganizationId string `json:"OrganizationId"`
	EntityId       string `json:"EntityId"`
	NextToken      string `json:"NextToken,omitempty"`
	MaxResults     *int32 `json:"MaxResults,omitempty"`
}

// ListAliasesOutput is the model's ListAliasesResponse. Aliases is never nil
// in an output of the store (it marshals as [] when empty); NextToken is
// omitted on the last page.
type ListAliasesOutput struct {
	Aliases   []string `json:"Aliases"`
	NextToken string   `json:"NextToken,omitempty"`
}

// checkAliasInput checks the members CreateAlias and DeleteAlias share, and
// returns every problem.
func checkAliasInput(orgID, entityID, alias string) error {
	if err := checkOrgID(orgID); err != nil {
		return err
	}
	var errs policy.ErrorList
	if err := checkEntityID("EntityId", entityID); err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if alias == "" {
		errs = append(errs, policy.Errorf(policy.ValidationException, "Alias", "Alias is required"))
	} else if !validEmail(alias) {
		errs = append(errs, policy.Errorf(policy.ValidationException, "Alias", fmt.Sprintf("invalid email address %q", truncate(alias, 70))))
	}
	return errs.Err()
}

// aliasIndex returns the index of alias in u's aliases (compared
// case-insensitively), or -1.
func aliasIndex(u *User, alias string) int {
	f := fold.String(alias)
	return slices.IndexFunc(u.Aliases, func(a string) bool { return fold.String(a) == f })
}

// CreateAlias gives a user one more email address (SEMANTICS F5). The user
// must be ENABLED (EntityStateException otherwise: only a user registered to
// WorkMail has addresses), the alias's domain must be one of the
// organization's mail domains or its default mail domain
// (MailDomainNotFoundException), and the address must not name another user,
// nor this user otherwise than as an alias (EmailAddressInUseException). An
// alias the user already has succeeds and changes nothing [decided]. A user
// has at most MaxAliasesPerUser aliases (LimitExceededException). Errors also:
// ValidationException for malformed members (every one, with its path);
// EntityNotFoundException when EntityId names no user.
func (s *Store) CreateAlias(ctx context.Context, in CreateAliasInput) (CreateAliasOutput, error) {
	if err := checkAliasInput(in.OrganizationId, in.EntityId, in.Alias); err != nil {
		return CreateAliasOutput{}, err
	}
	err := s.changeUsers(ctx, in.OrganizationId, func(snap *Snapshot) ([]User, error) {
		i, err := findUser(snap, "EntityId", in.EntityId)
		if err != nil {
			return nil, err
		}
		u := snap.rec.Users[i].clone()
		if u.State != UserEnabled {
			return nil, policy.Errorf(policy.EntityStateException, "EntityId", fmt.Sprintf("user %s is not registered to WorkMail", u.Id))
		}
		if aliasIndex(&u, in.Alias) >= 0 {
			return nil, nil // nothing changes
		}
		if err := checkMailDomain(snap, "Alias", in.Alias); err != nil {
			return nil, err
		}
		if owner(snap.rec.Users, in.Alias) >= 0 {
			return nil, policy.Errorf(policy.EmailAddressInUseException, "Alias", fmt.Sprintf("the email address %q is already in use", in.Alias))
		}
		if len(u.Aliases) >= MaxAliasesPerUser {
			return nil, policy.Errorf(policy.LimitExceededException, "Alias", fmt.Sprintf("user %s has %d aliases, the most allowed", u.Id, MaxAliasesPerUser))
		}
		u.Aliases = sortedAliases(append(u.Aliases, in.Alias))
		return withUser(snap.rec.Users, i, u), nil
	})
	return CreateAliasOutput{}, err
}

// checkMailDomain checks that email's domain is one of the organization's
// domains or its default mail domain, compared case-insensitively
// (MailDomainNotFoundException at path otherwise).
func checkMailDomain(snap *Snapshot, path, email string) error {
	domain := fold.String(email[strings.LastIndexByte(email, '@')+1:])
	known := fold.String(snap.rec.DefaultMailDomain) == domain
	for _, d := range snap.rec.Domains {
		known = known || fold.String(d.DomainName) == domain
	}
	if !known {
		return policy.Errorf(policy.MailDomainNotFoundException, path, fmt.Sprintf("the domain %q is not a mail domain of the organization", domain))
	}
	return nil
}

// DeleteAlias removes one of a user's aliases (SEMANTICS F5), compared
// case-insensitively. An alias the user does not have succeeds and changes
// nothing [decided], as A15's delete of a missing rule does. Errors:
// ValidationException for malformed members; EntityNotFoundException when
// EntityId names no user, or, as for PutUser, when a rule or role still names
// the user by that alias; EntityStateException for a DELETED user.
func (s *Store) DeleteAlias(ctx context.Context, in DeleteAliasInput) (DeleteAliasOutput, error) {
	if err := checkAliasInput(in.OrganizationId, in.EntityId, in.Alias); err != nil {
		return DeleteAliasOutput{}, err
	}
	err := s.changeUsers(ctx, in.OrganizationId, func(snap *Snapshot) ([]User, error) {
		i, err := findUser(snap, "EntityId", in.EntityId)
		if err != nil {
			return nil, err
		}
		u := snap.rec.Users[i].clone()
		if u.State == UserDeleted {
			return nil, policy.Errorf(policy.EntityStateException, "EntityId", fmt.Sprintf("user %s is deleted", u.Id))
		}
		j := aliasIndex(&u, in.Alias)
		if j < 0 {
			return nil, nil // nothing changes
		}
		u.Aliases = slices.Delete(u.Aliases, j, j+1)
		if len(u.Aliases) == 0 {
			u.Aliases = nil
		}
		return withUser(snap.rec.Users, i, u), nil
	})
	return DeleteAliasOutput{}, err
}

// aliasListing is the identity a ListAliases page token is bound to: the
// organization and the user (organization IDs have a fixed length, so the
// concatenation is unambiguous).
func aliasListing(orgID, userID string) string { return orgID + "/" + userID }

// ListAliases lists a user's aliases (SEMANTICS F5), named by ID, user name or
// email, in any state, in ascending order of their case-folded form
// [decided], MaxResults (1–100, default 20) at a time, with pagination as B7:
// the NextToken continues after the last alias of the previous page even if
// aliases were added or deleted since, and a token not issued for this user's
// alias listing is InvalidParameterException. An unknown user is
// EntityNotFoundException. Cost: O(a log a) for the user's a aliases on the
// latest snapshot; never locks.
func (s *Store) ListAliases(ctx context.Context, in ListAliasesInput) (ListAliasesOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return ListAliasesOutput{}, err
	}
	if err := checkEntityID("EntityId", in.EntityId); err != nil {
		return ListAliasesOutput{}, err
	}
	max, err := checkMaxResults(in.MaxResults, DefaultAliasesPage)
	if err != nil {
		return ListAliasesOutput{}, err
	}
	i, err := findUser(snap, "EntityId", in.EntityId)
	if err != nil {
		return ListAliasesOutput{}, err
	}
	u := &snap.rec.Users[i]
	aliases := sortedAliases(u.Aliases) // a state file written before F5 may hold them unsorted
	listing := aliasListing(in.OrganizationId, u.Id)
	if in.NextToken != "" {
		k, err := s.openPageToken(in.NextToken, listAliases, listing)
		if err != nil {
			return ListAliasesOutput{}, err
		}
		n := 0
		for n < len(aliases) && fold.String(aliases[n]) <= k[0] {
			n++
		}
		aliases = aliases[n:]
	}
	out := ListAliasesOutput{Aliases: []string{}}
	for _, a := range aliases {
		if len(out.Aliases) == max {
			last := out.Aliases[len(out.Aliases)-1]
			out.NextToken = s.pageToken(listAliases, listing, [2]string{fold.String(last), ""})
			break
		}
		out.Aliases = append(out.Aliases, a)
	}
	return out, nil
}
