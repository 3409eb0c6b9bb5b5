package org

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wmpolicy/wmpolicy/policy"
)

// ImportUsers replaces an organization's whole directory with the users of
// `aws workmail list-users` output (SEMANTICS D3). The users are checked as
// policy.NewDirectory does (every problem, with its path "Users[i].Field"),
// and the organization's rules and roles are recompiled against the new
// directory (A18, B2): if one of them would then name a user the directory
// no longer knows, the import is refused with that EntityNotFoundException and
// nothing changes.
func (s *Store) ImportUsers(ctx context.Context, in ImportUsersInput) (ImportUsersOutput, error) {
	users := make([]User, len(in.Users))
	for i, u := range in.Users {
		users[i] = User{Id: u.Id, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State}
	}
	return ImportUsersOutput{}, s.setUsers(ctx, in.OrganizationId, func([]User) ([]User, error) { return users, nil })
}

// PutUser adds a user to an organization's directory, or replaces the user
// with the same Id whole. The directory's rules apply (an identifier may not
// name two users; State is ENABLED, DISABLED or DELETED), and a change that
// would leave a rule or role naming an unknown user is refused, as for
// ImportUsers.
func (s *Store) PutUser(ctx context.Context, in PutUserInput) (PutUserOutput, error) {
	u := in.User.clone()
	if u.Id == "" {
		return PutUserOutput{}, policy.Errorf(policy.ValidationException, "Id", "user ID is required")
	}
	var errs policy.ErrorList
	checkAliases(&errs, "", u.Email, u.Aliases) // as CreateAlias would leave them (F5)
	if err := errs.Err(); err != nil {
		return PutUserOutput{}, err
	}
	var last string
	err := s.setUsers(ctx, in.OrganizationId, func(old []User) ([]User, error) {
		users := make([]User, 0, len(old)+1)
		for _, o := range old {
			if o.Id != u.Id {
				users = append(users, o)
			}
		}
		last = fmt.Sprintf("Users[%d]", len(users))
		return append(users, u), nil
	})
	if err != nil && last != "" {
		// Problems of the new user are reported at the request's own paths.
		var out policy.ErrorList
		for _, e := range policy.Errors(err) {
			e2 := *e
			if strings.HasPrefix(e.Path, last+".") {
				e2.Path = strings.TrimPrefix(e.Path, last+".")
			}
			out = append(out, &e2)
		}
		err = out.Err()
	}
	return PutUserOutput{}, err
}

// setUsers replaces the users of an organization with f's answer.
func (s *Store) setUsers(ctx context.Context, orgID string, f func(old []User) ([]User, error)) error {
	return s.mutate(ctx, orgID, func(snap *Snapshot) (*record, error) {
		users, err := f(snap.rec.Users)
		if err != nil {
			return nil, err
		}
		pu := make([]policy.User, len(users))
		for i, u := range users {
			pu[i] = u.policyUser()
		}
		if _, err := policy.NewDirectory(pu); err != nil {
			return nil, err
		}
		for i := range users {
			if !slices.IsSortedFunc(users[i].Aliases, compareAliases) {
				// Kept in ListAliases order, as CreateAlias keeps them (after
				// the check, whose paths index the aliases as given).
				users[i].Aliases = sortedAliases(users[i].Aliases)
			}
		}
		sort.SliceStable(users, func(i, j int) bool { return users[i].Id < users[j].Id })
		rec := snap.rec.clone()
		rec.Users = users
		if len(users) == 0 {
			rec.Users = nil
		}
		return rec, nil
	})
}
