package org

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/internal/userdir"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The user operations of SEMANTICS F4: CreateUser, RegisterToWorkMail,
// DeregisterFromWorkMail, DescribeUser, ListUsers and DeleteUser, with the
// model's shapes and constraints. They keep the directory that A18 and B2
// resolve rules and roles through.

// DefaultUsersPage is the page size of ListUsers when MaxResults is absent
// (pagination as B7).
const DefaultUsersPage = 20

// User roles (the model's UserRole).
const (
	UserRoleUser       = "USER"
	UserRoleResource   = "RESOURCE"
	UserRoleSystemUser = "SYSTEM_USER"
	UserRoleRemoteUser = "REMOTE_USER"
)

// User states (the model's EntityState).
const (
	UserEnabled  = "ENABLED"
	UserDisabled = "DISABLED"
	UserDeleted  = "DELETED"
)

// CreateUserInput is the model's CreateUserRequest (SEMANTICS F4). Password
// is checked against the model's constraints and never stored: wmpolicy
// authenticates no one.
type CreateUserInput struct {
	OrganizationId              string `json:"OrganizationId"`
	Name                        string `json:"Name"`
	DisplayName                 string `json:"DisplayName"`
	Password                    string `json:"Password,omitempty"`
	Role                        string `json:"Role,omitempty"`
	FirstName                   string `json:"FirstName,omitempty"`
	LastName                    string `json:"LastName,omitempty"`
	HiddenFromGlobalAddressList bool   `json:"HiddenFromGlobalAddressList,omitempty"`
	IdentityProviderUserId      string `json:"IdentityProviderUserId,omitempty"`
}

// CreateUserOutput is the model's CreateUserResponse.
type CreateUserOutput struct {
	UserId string `json:"UserId"`
}

// RegisterToWorkMailInput is the model's RegisterToWorkMailRequest: EntityId
// names the user by ID, user name or email.
type RegisterToWorkMailInput struct {
	OrganizationId string `json:"OrganizationId"`
	EntityId       string `json:"EntityId"`
	Email          string `json:"Email"`
}

// RegisterToWorkMailOutput is the model's empty RegisterToWorkMailResponse.
type RegisterToWorkMailOutput struct{}

// DeregisterFromWorkMailInput is the model's DeregisterFromWorkMailRequest.
type DeregisterFromWorkMailInput struct {
	OrganizationId string `json:"OrganizationId"`
	EntityId       string `json:"EntityId"`
}

// DeregisterFromWorkMailOutput is the model's empty DeregisterFromWorkMailResponse.
type DeregisterFromWorkMailOutput struct{}

// DescribeUserInput is the model's DescribeUserRequest: UserId names the user
// by ID, user name or email.
type DescribeUserInput struct {
	OrganizationId string `json:"OrganizationId"`
	UserId         string `json:"UserId"`
}

// DescribeUserOutput is the model's DescribeUserResponse, with the members
// this store keeps (the address-book attributes it never sets are absent).
type DescribeUserOutput struct {
	UserId                      string           `json:"UserId"`
	Name                        string           `json:"Name,omitempty"`
	Email                       string           `json:"Email,omitempty"`
	DisplayName                 string           `json:"DisplayName,omitempty"`
	State                       string           `json:"State,omitempty"`
	UserRole                    string           `json:"UserRole,omitempty"`
	EnabledDate                 policy.Timestamp `json:"EnabledDate,omitempty"`
	DisabledDate                policy.Timestamp `json:"DisabledDate,omitempty"`
	FirstName                   string           `json:"FirstName,omitempty"`
	LastName                    string           `json:"LastName,omitempty"`
	HiddenFromGlobalAddressList bool             `json:"HiddenFromGlobalAddressList,omitempty"`
	IdentityProviderUserId      string           `json:"IdentityProviderUserId,omitempty"`
}

// ListUsersFilters is the model's ListUsersFilters: at most one member may be
// set (the model: "You can only use one filter per request").
type ListUsersFilters struct {
	UsernamePrefix               string `json:"UsernamePrefix,omitempty"`
	DisplayNamePrefix            string `json:"DisplayNamePrefix,omitempty"`
	PrimaryEmailPrefix           string `json:"PrimaryEmailPrefix,omitempty"`
	State                        string `json:"State,omitempty"`
	IdentityProviderUserIdPrefix string `json:"IdentityProviderUserIdPrefix,omitempty"`
}

// ListUsersInput is the model's ListUsersRequest (SEMANTICS F4; pagination as
// B7). MaxResults nil means absent (the default page, 20); when set it must be
// 1–100.
type ListUsersInput struct {
	OrganizationId string            `json:"OrganizationId"`
	NextToken      string            `json:"NextToken,omitempty"`
	MaxResults     *int32            `json:"MaxResults,omitempty"`
	Filters        *ListUsersFilters `json:"Filters,omitempty"`
}

// UserSummary is one item of ListUsers output: the model's User shape.
type UserSummary struct {
	Id                     string           `json:"Id"`
	Email                  string           `json:"Email,omitempty"`
	Name                   string           `json:"Name,omitempty"`
	DisplayName            string           `json:"DisplayName,omitempty"`
	State                  string           `json:"State,omitempty"`
	UserRole               string           `json:"UserRole,omitempty"`
	EnabledDate            policy.Timestamp `json:"EnabledDate,omitempty"`
	DisabledDate           policy.Timestamp `json:"DisabledDate,omitempty"`
	IdentityProviderUserId string           `json:"IdentityProviderUserId,omitempty"`
	// IdentityProviderIdentityStoreId is a model member this store never
	// sets: accepted (as list-users output of AWS carries it) and ignored.
	IdentityProviderIdentityStoreId string `json:"IdentityProviderIdentityStoreId,omitempty"`
}

// ListUsersOutput is the model's ListUsersResponse. Users is never nil in an
// output of the store (it marshals as [] when empty); NextToken is omitted on
// the last page.
type ListUsersOutput struct {
	Users     []UserSummary `json:"Users"`
	NextToken string        `json:"NextToken,omitempty"`
}

// Summary returns the user as a ListUsers item.
func (u User) Summary() UserSummary {
	return UserSummary{Id: u.Id, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State,
		UserRole: u.UserRole, EnabledDate: u.EnabledDate, DisabledDate: u.DisabledDate, IdentityProviderUserId: u.IdentityProviderUserId}
}

var (
	// The model's patterns, anchored; Java's \w is [a-zA-Z0-9_].
	userNameRE   = regexp.MustCompile(`^[a-zA-Z0-9_.-]+(@[a-zA-Z0-9.-]+\.[a-zA-Z0-9-]{2,})?$`)
	emailRE      = regexp.MustCompile(`^[a-zA-Z0-9._%+-]{1,64}@[a-zA-Z0-9.-]+\.[a-zA-Z-]{2,}$`)
	entityIDRE   = regexp.MustCompile(`^[a-zA-Z0-9._%+@-]+$`)
	idpUserIDRE  = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	passwordChar = func(r rune) bool { return r >= 0x20 && r <= 0xff }
)

// validEmail reports whether v is an EmailAddress of the model: at most 254
// characters matching its pattern.
func validEmail(v string) bool { return len(v) <= 254 && emailRE.MatchString(v) }

// checkAttr checks a UserAttribute or String member: at most 256 characters
// of valid UTF-8.
func checkAttr(errs *policy.ErrorList, path, v string, required bool) {
	switch {
	case v == "" && required:
		*errs = append(*errs, policy.Errorf(policy.ValidationException, path, path+" is required"))
	case !utf8.ValidString(v):
		*errs = append(*errs, policy.Errorf(policy.ValidationException, path, "invalid UTF-8"))
	case utf8.RuneCountInString(v) > 256:
		*errs = append(*errs, policy.Errorf(policy.ValidationException, path, fmt.Sprintf("%s has %d characters; at most 256 are allowed", path, utf8.RuneCountInString(v))))
	}
}

func (in *CreateUserInput) validate() error {
	var errs policy.ErrorList
	add := func(path, msg string) { errs = append(errs, policy.Errorf(policy.ValidationException, path, msg)) }
	switch n := utf8.RuneCountInString(in.Name); {
	case in.Name == "":
		add("Name", "Name is required")
	case n > 64 || !userNameRE.MatchString(in.Name):
		add("Name", fmt.Sprintf("invalid user name %q: want 1-64 characters of letters, digits, _ . - (optionally @domain)", truncate(in.Name, 70)))
	}
	checkAttr(&errs, "DisplayName", in.DisplayName, true)
	checkAttr(&errs, "FirstName", in.FirstName, false)
	checkAttr(&errs, "LastName", in.LastName, false)
	if in.Password != "" {
		ok := utf8.ValidString(in.Password) && utf8.RuneCountInString(in.Password) <= 256
		for _, r := range in.Password {
			ok = ok && passwordChar(r)
		}
		if !ok {
			// Never echo a password.
			add("Password", "invalid password: want at most 256 characters of U+0020-U+00FF")
		}
	}
	if in.IdentityProviderUserId != "" && (len(in.IdentityProviderUserId) > 47 || !idpUserIDRE.MatchString(in.IdentityProviderUserId)) {
		add("IdentityProviderUserId", "invalid IdentityProviderUserId: want an IAM Identity Center user ID")
	}
	switch in.Role {
	case "", UserRoleUser, UserRoleResource, UserRoleSystemUser, UserRoleRemoteUser:
	default:
		add("Role", fmt.Sprintf("invalid role %q: must be USER, RESOURCE, SYSTEM_USER or REMOTE_USER", truncate(in.Role, 40)))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if in.Role == UserRoleResource || in.Role == UserRoleSystemUser {
		return policy.Errorf(policy.InvalidParameterException, "Role", fmt.Sprintf("a user cannot be created with the role %s", in.Role))
	}
	return nil
}

// checkEntityID checks an EntityIdentifier member (1–256 characters of
// [a-zA-Z0-9._%+@-]).
func checkEntityID(path, id string) error {
	if id == "" {
		return policy.Errorf(policy.ValidationException, path, path+" is required")
	}
	if utf8.RuneCountInString(id) > 256 || !entityIDRE.MatchString(id) {
		return policy.Errorf(policy.ValidationException, path, fmt.Sprintf("invalid identifier %q: want 1-256 characters of a-z A-Z 0-9 . _ %% + @ -", truncate(id, 70)))
	}
	return nil
}

// findUser resolves id (the user's ID, user name or email, A18) to its index
// in snap's users: EntityNotFoundException when it names no user.
func findUser(snap *Snapshot, path, id string) (int, error) {
	if i, _, _, ok := userdir.Of(snap.dir).Find(id); ok {
		return i, nil
	}
	if err := checkEntityID(path, id); err != nil {
		return 0, err
	}
	return 0, policy.Errorf(policy.EntityNotFoundException, path, fmt.Sprintf("no user %q in the organization", truncate(id, 64)))
}

// changeUsers replaces the users of an organization with f's answer, which
// must keep the order by Id (the directory and the rules and roles naming
// users are checked by the new snapshot's compilation).
func (s *Store) changeUsers(ctx context.Context, orgID string, f func(snap *Snapshot) ([]User, error)) error {
	return s.mutate(ctx, orgID, func(snap *Snapshot) (*record, error) {
		users, err := f(snap)
		if err != nil || users == nil {
			return nil, err
		}
		rec := snap.rec.clone()
		rec.Users = users
		if len(users) == 0 {
			rec.Users = nil
		}
		return rec, nil
	})
}

// owner returns the index of the user one of whose identifiers (ID, email,
// alias, user name) equals v case-insensitively, or -1: the identifiers a
// directory keeps distinct (policy.NewDirectory).
func owner(users []User, v string) int {
	f := fold.String(v)
	for i := range users {
		u := &users[i]
		if fold.String(u.Id) == f || (u.Email != "" && fold.String(u.Email) == f) || (u.Name != "" && fold.String(u.Name) == f) {
			return i
		}
		for _, a := range u.Aliases {
			if fold.String(a) == f {
				return i
			}
		}
	}
	return -1
}

// withUser returns a copy of users with users[i] replaced by u.
func withUser(users []User, i int, u User) []User {
	out := make([]User, len(users))
	copy(out, users)
	out[i] = u
	return out
}

// CreateUser adds a user to the organization's directory (SEMANTICS F4): a new
// random UUID as its ID, State DISABLED, UserRole USER unless Role says
// otherwise. Errors: ValidationException for malformed members (every one,
// with its path); InvalidParameterException for the roles RESOURCE and
// SYSTEM_USER (the model: they cannot be passed); NameAvailabilityException
// when Name already names a user of the organization (its ID, user name,
// email or alias, case-insensitively). The Password is checked and dropped.
func (s *Store) CreateUser(ctx context.Context, in CreateUserInput) (CreateUserOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return CreateUserOutput{}, err
	}
	if err := in.validate(); err != nil {
		return CreateUserOutput{}, err
	}
	var id string
	err := s.changeUsers(ctx, in.OrganizationId, func(snap *Snapshot) ([]User, error) {
		if owner(snap.rec.Users, in.Name) >= 0 {
			return nil, policy.Errorf(policy.NameAvailabilityException, "Name", fmt.Sprintf("the name %q is already in use", in.Name))
		}
		var err error
		if id, err = s.newUUID(); err != nil {
			return nil, err
		}
		role := in.Role
		if role == "" {
			role = UserRoleUser
		}
		u := User{Id: id, Name: in.Name, DisplayName: in.DisplayName, State: UserDisabled, UserRole: role,
			FirstName: in.FirstName, LastName: in.LastName, HiddenFromGlobalAddressList: in.HiddenFromGlobalAddressList,
			IdentityProviderUserId: in.IdentityProviderUserId}
		users := make([]User, 0, len(snap.rec.Users)+1)
		i := 0
		for i < len(snap.rec.Users) && snap.rec.Users[i].Id < id {
			i++
		}
		users = append(append(append(users, snap.rec.Users[:i]...), u), snap.rec.Users[i:]...)
		return users, nil
	})
	if err != nil {
		return CreateUserOutput{}, err
	}
	return CreateUserOutput{UserId: id}, nil
}

// RegisterToWorkMail enables a user and gives it its email (SEMANTICS F4):
// State ENABLED, EnabledDate now. Errors: ValidationException for a malformed
// member; EntityNotFoundException when EntityId names no user;
// EntityStateException for a DELETED user; EntityAlreadyRegisteredException
// for one already ENABLED [decided]; MailDomainNotFoundException when the
// email's domain is neither one of the organization's domains nor its default
// mail domain (compared case-insensitively); EmailAddressInUseException when
// the email already names another user, or is one of the user's aliases
// (F5). A rule or role naming the user's
// previous email no longer resolves, so such a change is refused as
// PutUser's is.
func (s *Store) RegisterToWorkMail(ctx context.Context, in RegisterToWorkMailInput) (RegisterToWorkMailOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return RegisterToWorkMailOutput{}, err
	}
	var errs policy.ErrorList
	if err := checkEntityID("EntityId", in.EntityId); err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if in.Email == "" {
		errs = append(errs, policy.Errorf(policy.ValidationException, "Email", "Email is required"))
	} else if !validEmail(in.Email) {
		errs = append(errs, policy.Errorf(policy.ValidationException, "Email", fmt.Sprintf("invalid email address %q", truncate(in.Email, 70))))
	}
	if err := errs.Err(); err != nil {
		return RegisterToWorkMailOutput{}, err
	}
	err := s.changeUsers(ctx, in.OrganizationId, func(snap *Snapshot) ([]User, error) {
		i, err := findUser(snap, "EntityId", in.EntityId)
		if err != nil {
			return nil, err
		}
		u := snap.rec.Users[i].clone()
		switch u.State {
		case UserEnabled:
			return nil, policy.Errorf(policy.EntityAlreadyRegisteredException, "EntityId", fmt.Sprintf("user %s is already registered to WorkMail", u.Id))
		case UserDeleted:
			return nil, policy.Errorf(policy.EntityStateException, "EntityId", fmt.Sprintf("user %s is deleted", u.Id))
		}
		if err := checkMailDomain(snap, "Email", in.Email); err != nil {
			return nil, err
		}
		if j := owner(snap.rec.Users, in.Email); j >= 0 && (j != i || aliasIndex(&u, in.Email) >= 0) {
			return nil, policy.Errorf(policy.EmailAddressInUseException, "Email", fmt.Sprintf("the email address %q is already in use", in.Email))
		}
		u.Email, u.State, u.EnabledDate = in.Email, UserEnabled, s.now()
		return withUser(snap.rec.Users, i, u), nil
	})
	return RegisterToWorkMailOutput{}, err
}

// DeregisterFromWorkMail disables a user (SEMANTICS F4): State DISABLED,
// DisabledDate now. The user keeps its email [decided], so that rules and
// roles naming it by email keep resolving (A18, B2), and an enforcement point
// refuses it as not ENABLED (E2). Errors: EntityNotFoundException when
// EntityId names no user; EntityStateException when the user is not ENABLED.
func (s *Store) DeregisterFromWorkMail(ctx context.Context, in DeregisterFromWorkMailInput) (DeregisterFromWorkMailOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return DeregisterFromWorkMailOutput{}, err
	}
	if err := checkEntityID("EntityId", in.EntityId); err != nil {
		return DeregisterFromWorkMailOutput{}, err
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
		u.State, u.DisabledDate = UserDisabled, s.now()
		return withUser(snap.rec.Users, i, u), nil
	})
	return DeregisterFromWorkMailOutput{}, err
}

// DescribeUser describes one user, named by ID, user name or email (SEMANTICS
// F4). An unknown user is EntityNotFoundException. It reads the latest
// snapshot and never locks.
func (s *Store) DescribeUser(ctx context.Context, in DescribeUserInput) (DescribeUserOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return DescribeUserOutput{}, err
	}
	if err := checkEntityID("UserId", in.UserId); err != nil {
		return DescribeUserOutput{}, err
	}
	i, err := findUser(snap, "UserId", in.UserId)
	if err != nil {
		return DescribeUserOutput{}, err
	}
	u := snap.rec.Users[i]
	return DescribeUserOutput{UserId: u.Id, Name: u.Name, Email: u.Email, DisplayName: u.DisplayName, State: u.State,
		UserRole: u.UserRole, EnabledDate: u.EnabledDate, DisabledDate: u.DisabledDate, FirstName: u.FirstName,
		LastName: u.LastName, HiddenFromGlobalAddressList: u.HiddenFromGlobalAddressList,
		IdentityProviderUserId: u.IdentityProviderUserId}, nil
}

// matches reports whether u passes the filter f (nil passes everything).
func (f *ListUsersFilters) matches(u *User) bool {
	switch {
	case f == nil:
		return true
	case f.UsernamePrefix != "":
		return strings.HasPrefix(fold.String(u.Name), fold.String(f.UsernamePrefix))
	case f.DisplayNamePrefix != "":
		return strings.HasPrefix(fold.String(u.DisplayName), fold.String(f.DisplayNamePrefix))
	case f.PrimaryEmailPrefix != "":
		return strings.HasPrefix(fold.String(u.Email), fold.String(f.PrimaryEmailPrefix))
	case f.State != "":
		return u.State == f.State
	case f.IdentityProviderUserIdPrefix != "":
		return strings.HasPrefix(u.IdentityProviderUserId, f.IdentityProviderUserIdPrefix)
	}
	return true
}

func (f *ListUsersFilters) validate() error {
	if f == nil {
		return nil
	}
	var errs policy.ErrorList
	n := 0
	for _, m := range []struct{ name, v string }{{"UsernamePrefix", f.UsernamePrefix}, {"DisplayNamePrefix", f.DisplayNamePrefix},
		{"PrimaryEmailPrefix", f.PrimaryEmailPrefix}, {"State", f.State}, {"IdentityProviderUserIdPrefix", f.IdentityProviderUserIdPrefix}} {
		if m.v != "" {
			n++
		}
		checkAttr(&errs, "Filters."+m.name, m.v, false)
	}
	switch f.State {
	case "", UserEnabled, UserDisabled, UserDeleted:
	default:
		errs = append(errs, policy.Errorf(policy.ValidationException, "Filters.State", fmt.Sprintf("invalid state %q: must be ENABLED, DISABLED or DELETED", truncate(f.State, 40))))
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if n > 1 {
		return policy.Errorf(policy.InvalidParameterException, "Filters", "only one filter may be used per request")
	}
	return nil
}

// ListUsers lists an organization's users (SEMANTICS F4) in ascending byte
// order of Id [decided], MaxResults (1–100, default 20) at a time, with
// pagination as B7: the opaque NextToken continues after the last user of the
// previous page even if users were created or deleted since, and a token not
// issued for this organization's user listing is InvalidParameterException.
// Filters (at most one member set; more is InvalidParameterException) keep
// the users whose user name, display name or email starts with the prefix
// (case-insensitively), whose state is State, or whose identity-provider ID
// starts with the prefix. Cost: O(users) on the latest snapshot; never locks.
func (s *Store) ListUsers(ctx context.Context, in ListUsersInput) (ListUsersOutput, error) {
	snap, err := s.live(in.OrganizationId)
	if err != nil {
		return ListUsersOutput{}, err
	}
	max, err := checkMaxResults(in.MaxResults, DefaultUsersPage)
	if err != nil {
		return ListUsersOutput{}, err
	}
	if err := in.Filters.validate(); err != nil {
		return ListUsersOutput{}, err
	}
	users := snap.rec.Users
	if in.NextToken != "" {
		k, err := s.openPageToken(in.NextToken, listUsers, in.OrganizationId)
		if err != nil {
			return ListUsersOutput{}, err
		}
		i := 0
		for i < len(users) && users[i].Id <= k[0] {
			i++
		}
		users = users[i:]
	}
	out := ListUsersOutput{Users: []UserSummary{}}
	for i := range users {
		u := &users[i]
		if !in.Filters.matches(u) {
			continue
		}
		if len(out.Users) == max {
			last := out.Users[len(out.Users)-1]
			out.NextToken = s.pageToken(listUsers, in.OrganizationId, [2]string{last.Id, ""})
			break
		}
		out.Users = append(out.Users, u.Summary())
	}
	return out, nil
}

// DeleteUser removes a user, named by ID or user name (email too [decided]),
// from the organization's directory (SEMANTICS F4). Errors:
// EntityNotFoundException for an unknown user [decided] (the model lists no
// error for it; a silent success would hide a typo); EntityStateException for
// an ENABLED user (deregister it first); and, as for ImportUsers, a user that
// a rule or role still names is refused.
func (s *Store) DeleteUser(ctx context.Context, in DeleteUserInput) (DeleteUserOutput, error) {
	if err := checkOrgID(in.OrganizationId); err != nil {
		return DeleteUserOutput{}, err
	}
	if in.UserId == "" {
		return DeleteUserOutput{}, policy.Errorf(policy.ValidationException, "UserId", "UserId is required")
	}
	return DeleteUserOutput{}, s.changeUsers(ctx, in.OrganizationId, func(snap *Snapshot) ([]User, error) {
		i, err := findUser(snap, "UserId", in.UserId)
		if err != nil {
			return nil, err
		}
		if snap.rec.Users[i].State == UserEnabled {
			return nil, policy.Errorf(policy.EntityStateException, "UserId", fmt.Sprintf("user %s is registered to WorkMail: deregister it first", snap.rec.Users[i].Id))
		}
		users := make([]User, 0, len(snap.rec.Users)-1)
		return append(append(users, snap.rec.Users[:i]...), snap.rec.Users[i+1:]...), nil
	})
}
