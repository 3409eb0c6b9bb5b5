package org

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Moving an organization in and out (issue 14, item 4): an Export is one
// organization as the AWS CLI prints it, so that an organization leaving
// Amazon WorkMail arrives with its organization ID, role IDs, user IDs and
// rule dates, and one leaving wmpolicy goes out in the same files.

// The files of an export, as `aws workmail <command>` prints them.
const (
	FileDescribeOrganization   = "describe-organization.json"
	FileListMailDomains        = "list-mail-domains.json"
	FileListAccessControlRules = "list-access-control-rules.json"
	FileListUsers              = "list-users.json"
	FileListImpersonationRoles = "list-impersonation-roles.json"
	// FileGetImpersonationRolePrefix + role ID + ".json" is one role's
	// get-impersonation-role output.
	FileGetImpersonationRolePrefix = "get-impersonation-role-"
	// FileListAliasesPrefix + user ID + ".json" is one user's list-aliases
	// output; an export has one for each user with aliases. A user ID that
	// cannot name a file (see AliasesFile) is replaced by "sha256-" and its
	// SHA-256 in hexadecimal.
	FileListAliasesPrefix = "list-aliases-"
)

// MailDomainSummary is one item of list-mail-domains output (the model's
// MailDomainSummary).
type MailDomainSummary struct {
	DomainName    string `json:"DomainName"`
	DefaultDomain bool   `json:"DefaultDomain"`
}

// ListMailDomainsOutput is the model's ListMailDomainsResponse.
type ListMailDomainsOutput struct {
	MailDomains []MailDomainSummary `json:"MailDomains"`
	NextToken   *string             `json:"NextToken,omitempty"`
}

// Export is one organization as the AWS CLI prints it: the outputs of
// describe-organization, list-mail-domains (optional on import),
// list-access-control-rules, list-users, list-impersonation-roles (every
// page), get-impersonation-role for each role (in Roles order) and
// list-aliases for each user with aliases (SEMANTICS F5).
//
// What the files cannot carry is not migrated: a KmsKeyArn, domains'
// HostedZoneIds, ClientTokens, and the user attributes list-users does not
// print (first and last names, HiddenFromGlobalAddressList).
type Export struct {
	Organization DescribeOrganizationOutput
	MailDomains  ListMailDomainsOutput
	Rules        accessctl.ListAccessControlRulesOutput
	Users        ListUsersOutput
	Roles        impersonation.ListImpersonationRolesOutput
	RoleDetails  []impersonation.Role
	// Aliases maps a user ID to the user's aliases, in ListAliases order;
	// users without aliases are absent.
	Aliases map[string][]string
}

// Export returns organization orgID as an Export, from one snapshot (one
// revision, never a mix). Cost: O(size of the organization).
func (s *Store) Export(orgID string) (*Export, error) {
	snap, err := s.live(orgID)
	if err != nil {
		return nil, err
	}
	r := snap.rec
	e := &Export{
		Rules: accessctl.ListAccessControlRulesOutput{Rules: snap.Rules()},
		Users: ListUsersOutput{Users: []UserSummary{}},
		Roles: impersonation.ListImpersonationRolesOutput{Roles: []impersonation.RoleSummary{}},
	}
	e.Organization = describe(r)
	e.MailDomains.MailDomains = []MailDomainSummary{}
	for _, d := range r.Domains {
		e.MailDomains.MailDomains = append(e.MailDomains.MailDomains, MailDomainSummary{DomainName: d.DomainName, DefaultDomain: d.DomainName == r.DefaultMailDomain})
	}
	for _, u := range r.Users {
		e.Users.Users = append(e.Users.Users, u.Summary())
		if len(u.Aliases) > 0 {
			if e.Aliases == nil {
				e.Aliases = map[string][]string{}
			}
			e.Aliases[u.Id] = sortedAliases(u.Aliases)
		}
	}
	for _, role := range snap.Roles() {
		e.Roles.Roles = append(e.Roles.Roles, role.Summary())
		e.RoleDetails = append(e.RoleDetails, role)
	}
	return e, nil
}

// marshalCLI writes v as the AWS CLI prints JSON: four-space indentation,
// no HTML escaping, a final newline.
func marshalCLI(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Files returns the export's files, name → content: the same bytes for the
// same organization, so that export → import → export is byte-identical. It
// fails for a role ID, or the ID of a user with aliases, that cannot name a
// file (a user ID over 237 bytes).
func (e *Export) Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(name string, v any) error {
		b, err := marshalCLI(v)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out[name] = b
		return nil
	}
	for name, v := range map[string]any{FileDescribeOrganization: e.Organization, FileListMailDomains: e.MailDomains,
		FileListAccessControlRules: e.Rules, FileListUsers: e.Users, FileListImpersonationRoles: e.Roles} {
		if err := add(name, v); err != nil {
			return nil, err
		}
	}
	for _, r := range e.RoleDetails {
		if !roleFileIDRE.MatchString(r.ImpersonationRoleId) {
			return nil, fmt.Errorf("role ID %q cannot name a file", truncate(r.ImpersonationRoleId, 70))
		}
		if err := add(FileGetImpersonationRolePrefix+r.ImpersonationRoleId+".json", r); err != nil {
			return nil, err
		}
	}
	for id, aliases := range e.Aliases {
		if err := add(AliasesFile(id), ListAliasesOutput{Aliases: aliases}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AliasesFile returns the name of the list-aliases file of user id in an
// export: "list-aliases-" + id + ".json" for an ID of 1–100 characters of
// a-z A-Z 0-9 . _ % + @ - (WorkMail's S-1-… IDs and UUIDs) that does not
// start with "sha256-"; for any other ID "list-aliases-sha256-" + the ID's
// SHA-256 in hexadecimal + ".json", so that every user ID names a file.
func AliasesFile(id string) string {
	if userFileIDRE.MatchString(id) && !strings.HasPrefix(id, "sha256-") {
		return FileListAliasesPrefix + id + ".json"
	}
	h := sha256.Sum256([]byte(id))
	return FileListAliasesPrefix + "sha256-" + hex.EncodeToString(h[:]) + ".json"
}

var (
	roleFileIDRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	// userFileIDRE: the user IDs that name their list-aliases file
	// themselves (AliasesFile).
	userFileIDRE = regexp.MustCompile(`^[a-zA-Z0-9._%+@-]{1,100}$`)
)

// usersFile is list-users output as read: NextToken marks one page.
type usersFile struct {
	Users     []UserSummary `json:"Users"`
	NextToken *string       `json:"NextToken,omitempty"`
}

// aliasesFile is list-aliases output as read.
type aliasesFile struct {
	Aliases   []string `json:"Aliases"`
	NextToken *string  `json:"NextToken,omitempty"`
}

// rolesFile is list-impersonation-roles output as read.
type rolesFile struct {
	Roles     []impersonation.RoleSummary `json:"Roles"`
	NextToken *string                     `json:"NextToken,omitempty"`
}

// ParseExport reads an export's files (name → content) as the AWS CLI
// prints them: strictly (SEMANTICS D2: members the model defines are
// accepted, anything else is refused with its path), timestamps as epoch
// seconds or ISO 8601 in any time zone. describe-organization,
// list-access-control-rules, list-users and list-impersonation-roles are
// required, list-mail-domains optional; every role listed needs its
// get-impersonation-role file and every such file must be listed;
// list-aliases files are optional, each for a user list-users lists. A listing
// that carries a NextToken is one page of a paginated listing and is
// refused, saying so. Errors are a policy.ErrorList whose paths start with
// the file's name.
func ParseExport(files map[string][]byte) (*Export, error) {
	r := &exportReader{files: files}
	e := &Export{}
	r.read(FileDescribeOrganization, &e.Organization, true)
	if r.read(FileListMailDomains, &e.MailDomains, false) {
		r.paged(FileListMailDomains, e.MailDomains.NextToken)
	}
	r.read(FileListAccessControlRules, &e.Rules, true)
	var uf usersFile
	usersRead := r.read(FileListUsers, &uf, true)
	if usersRead {
		r.paged(FileListUsers, uf.NextToken)
		e.Users.Users = uf.Users
	}
	var rf rolesFile
	if r.read(FileListImpersonationRoles, &rf, true) {
		r.paged(FileListImpersonationRoles, rf.NextToken)
		e.Roles.Roles = rf.Roles
	}
	listed := r.roles(e)
	r.others(e, listed, usersRead)
	if err := r.errs.Err(); err != nil {
		return nil, err
	}
	return e, nil
}

// exportReader collects the problems of ParseExport's files.
type exportReader struct {
	files map[string][]byte
	errs  policy.ErrorList
}

// read decodes file name into v strictly and reports whether it did; a
// missing file is a problem only when required.
func (r *exportReader) read(name string, v any, required bool) bool {
	data, ok := r.files[name]
	if !ok {
		if required {
			r.errs = append(r.errs, policy.Errorf(policy.ValidationException, name, "missing file"))
		}
		return false
	}
	if err := policy.DecodeStrict(data, v); err != nil {
		for _, x := range policy.Errors(err) {
			r.errs = append(r.errs, x.WithPrefix(name+":"))
		}
		return false
	}
	return true
}

// paged refuses a listing that is one page (SEMANTICS D4).
func (r *exportReader) paged(name string, tok *string) {
	if tok != nil {
		r.errs = append(r.errs, policy.Errorf(policy.ValidationException, name+":NextToken",
			"this is one page of a paginated listing (it carries a NextToken): print every page (run the command without --max-items, --page-size limits or --no-paginate) and export again"))
	}
}

// roles reads the get-impersonation-role file of every role e lists, which
// must agree with the listing, and returns the listed role IDs.
func (r *exportReader) roles(e *Export) map[string]bool {
	listed := map[string]bool{}
	for i, rs := range e.Roles.Roles {
		listed[rs.ImpersonationRoleId] = true
		name := FileGetImpersonationRolePrefix + rs.ImpersonationRoleId + ".json"
		if !roleFileIDRE.MatchString(rs.ImpersonationRoleId) {
			r.errs = append(r.errs, policy.Errorf(policy.ValidationException, fmt.Sprintf("%s:Roles[%d].ImpersonationRoleId", FileListImpersonationRoles, i), "invalid role ID"))
			continue
		}
		var role impersonation.Role
		if !r.read(name, &role, true) {
			continue
		}
		if role.ImpersonationRoleId != rs.ImpersonationRoleId || role.Name != rs.Name || role.Type != rs.Type ||
			role.DateCreated != rs.DateCreated || role.DateModified != rs.DateModified {
			r.errs = append(r.errs, policy.Errorf(policy.ValidationException, name, fmt.Sprintf("does not agree with %s's Roles[%d]", FileListImpersonationRoles, i)))
		}
		e.RoleDetails = append(e.RoleDetails, role)
	}
	return listed
}

// others checks the files beyond the five listings, in name order: role
// files must be listed, list-aliases files (read into e.Aliases) must be of
// users e lists, and nothing else may be there. usersRead is false when
// list-users.json itself failed (its problem is reported already).
func (r *exportReader) others(e *Export, listed map[string]bool, usersRead bool) {
	var extra []string
	for name := range r.files {
		switch name {
		case FileDescribeOrganization, FileListMailDomains, FileListAccessControlRules, FileListUsers, FileListImpersonationRoles:
			continue
		}
		extra = append(extra, name)
	}
	sort.Strings(extra)
	aliasFiles := map[string]string{} // file name → user ID
	for _, u := range e.Users.Users {
		aliasFiles[AliasesFile(u.Id)] = u.Id
	}
	for _, name := range extra {
		base, isJSON := strings.CutSuffix(name, ".json")
		role, isRole := strings.CutPrefix(base, FileGetImpersonationRolePrefix)
		switch {
		case isJSON && isRole:
			if !listed[role] {
				r.errs = append(r.errs, policy.Errorf(policy.ValidationException, name, fmt.Sprintf("a role that %s does not list", FileListImpersonationRoles)))
			}
		case isJSON && strings.HasPrefix(base, FileListAliasesPrefix):
			user, ok := aliasFiles[name]
			if !ok {
				if usersRead {
					r.errs = append(r.errs, policy.Errorf(policy.ValidationException, name, fmt.Sprintf("the aliases of a user that %s does not list", FileListUsers)))
				}
				continue
			}
			var af aliasesFile
			if r.read(name, &af, true) {
				r.paged(name, af.NextToken)
				if e.Aliases == nil {
					e.Aliases = map[string][]string{}
				}
				e.Aliases[user] = af.Aliases
			}
		default:
			r.errs = append(r.errs, policy.Errorf(policy.ValidationException, name, "not a file of an export"))
		}
	}
}

// ImportOrganizationOutput is the answer of ImportOrganization.
type ImportOrganizationOutput struct {
	OrganizationId string `json:"OrganizationId"`
}

// ImportOrganization recreates an exported organization in the store,
// keeping its organization ID, alias, directory, default mail domain,
// creation date, rules (with their dates), roles (with their IDs and dates)
// and users (with their IDs, states and dates). Everything is checked as the
// operations check it (and as Open checks a state file): malformed fields are
// ValidationException; an organization ID that exists here, live or deleted,
// an alias or directory in use are NameAvailabilityException and
// DirectoryInUseException [decided]; more rules or roles than the store's
// limits LimitExceededException; a rule or role naming a user the directory
// does not have EntityNotFoundException. Only an Active organization can be
// imported. A failed import changes nothing.
func (s *Store) ImportOrganization(ctx context.Context, e *Export) (ImportOrganizationOutput, error) {
	o := e.Organization
	id := o.OrganizationId
	if err := checkOrgID(id); err != nil {
		return ImportOrganizationOutput{}, err
	}
	if o.State != StateActive {
		return ImportOrganizationOutput{}, policy.Errorf(policy.OrganizationStateException, "State", fmt.Sprintf("only an Active organization can be imported, not %q", truncate(o.State, 40)))
	}
	rec := &record{
		OrganizationId: id, Alias: o.Alias, State: StateActive, DirectoryId: o.DirectoryId,
		InteroperabilityEnabled: o.InteroperabilityEnabled, DefaultMailDomain: o.DefaultMailDomain,
		DateCreated: o.CompletedDate, Revision: 1,
	}
	for _, d := range e.MailDomains.MailDomains {
		rec.Domains = append(rec.Domains, Domain{DomainName: d.DomainName})
	}
	rec.Rules = make([]accessctl.Rule, len(e.Rules.Rules))
	for i, r := range e.Rules.Rules {
		rec.Rules[i] = r.Clone()
	}
	sort.SliceStable(rec.Rules, func(i, j int) bool { return rec.Rules[i].Name < rec.Rules[j].Name })
	rec.Roles = make([]impersonation.Role, len(e.RoleDetails))
	for i, r := range e.RoleDetails {
		rec.Roles[i] = r.Clone()
	}
	sortRoles(rec.Roles)
	if err := checkExportAliases(e); err != nil {
		return ImportOrganizationOutput{}, err
	}
	for _, u := range e.Users.Users {
		rec.Users = append(rec.Users, User{Id: u.Id, Email: u.Email, Name: u.Name, DisplayName: u.DisplayName, State: u.State,
			UserRole: u.UserRole, EnabledDate: u.EnabledDate, DisabledDate: u.DisabledDate, IdentityProviderUserId: u.IdentityProviderUserId,
			Aliases: sortedAliases(e.Aliases[u.Id])})
	}
	sort.SliceStable(rec.Users, func(i, j int) bool { return rec.Users[i].Id < rec.Users[j].Id })
	for i, u := range e.Users.Users {
		switch u.UserRole {
		case "", UserRoleUser, UserRoleResource, UserRoleSystemUser, UserRoleRemoteUser:
		default:
			return ImportOrganizationOutput{}, policy.Errorf(policy.ValidationException, fmt.Sprintf("Users[%d].UserRole", i), fmt.Sprintf("invalid role %q", truncate(u.UserRole, 40)))
		}
	}
	if err := validateRecord(rec, id); err != nil {
		return ImportOrganizationOutput{}, err
	}
	if o.DefaultMailDomain != "" && !domainRE.MatchString(o.DefaultMailDomain) {
		return ImportOrganizationOutput{}, policy.Errorf(policy.ValidationException, "DefaultMailDomain", "invalid domain name")
	}
	if len(rec.Rules) > s.ruleLimit {
		return ImportOrganizationOutput{}, policy.Errorf(policy.LimitExceededException, "Rules", fmt.Sprintf("%d rules; this store allows %d per organization", len(rec.Rules), s.ruleLimit))
	}
	if len(rec.Roles) > s.roleLimit {
		return ImportOrganizationOutput{}, policy.Errorf(policy.LimitExceededException, "Roles", fmt.Sprintf("%d roles; this store allows %d per organization", len(rec.Roles), s.roleLimit))
	}
	snap, err := build(rec, nil)
	if err != nil {
		return ImportOrganizationOutput{}, err
	}
	// A rule may name a role the export does not hold: rules that still
	// name a deleted role are left alone (SEMANTICS B6), so every export of
	// a live organization can hold such rules, and importing reproduces them
	// (the ID never matches; a new role never gets an ID a rule names).
	if sb := s.sharedBackend(); sb != nil {
		// The database checks the ID, the alias and the directory in the
		// insert's transaction (G1).
		_, err := sb.createOrg(ctx, rec, s.now())
		if errors.Is(err, errConflict) {
			return ImportOrganizationOutput{}, policy.Errorf(policy.NameAvailabilityException, "OrganizationId", fmt.Sprintf("the organization %s already exists here (live or deleted)", id))
		}
		if err != nil {
			return ImportOrganizationOutput{}, err
		}
		s.applyRecord(rec, snap)
		return ImportOrganizationOutput{OrganizationId: id}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ImportOrganizationOutput{}, errClosed
	}
	idx := s.index.Load().byID
	if idx[id] != nil || s.deleted[id] != nil {
		return ImportOrganizationOutput{}, policy.Errorf(policy.NameAvailabilityException, "OrganizationId", fmt.Sprintf("the organization %s already exists here (live or deleted)", id))
	}
	alias := fold.String(rec.Alias)
	for _, sl := range idx {
		if other := sl.snap.Load().rec; fold.String(other.Alias) == alias {
			return ImportOrganizationOutput{}, policy.Errorf(policy.NameAvailabilityException, "Alias", fmt.Sprintf("the alias %q is already in use", rec.Alias))
		}
	}
	if rec.DirectoryId != "" {
		for _, sl := range idx {
			if sl.snap.Load().rec.DirectoryId == rec.DirectoryId {
				return ImportOrganizationOutput{}, policy.Errorf(policy.DirectoryInUseException, "DirectoryId", fmt.Sprintf("the directory %s is already used by another organization", rec.DirectoryId))
			}
		}
	}
	werr := s.write(ctx, rec, 0)
	if werr != nil && !errors.Is(werr, ErrDurabilityUncertain) {
		return ImportOrganizationOutput{}, werr
	}
	s.publishNew(idx, id, snap)
	return ImportOrganizationOutput{OrganizationId: id}, werr
}

// checkExportAliases checks e.Aliases with checkAliases, for users that
// e.Users lists; paths name the list-aliases files. Uniqueness across users
// is the directory's check. Domains and states are not checked: a user
// deregistered since keeps its aliases (F4), and list-mail-domains is
// optional.
func checkExportAliases(e *Export) error {
	users := map[string]string{} // ID → email
	for _, u := range e.Users.Users {
		users[u.Id] = u.Email
	}
	var errs policy.ErrorList
	for _, id := range slices.Sorted(maps.Keys(e.Aliases)) {
		file := AliasesFile(id)
		if email, ok := users[id]; ok {
			checkAliases(&errs, file+":", email, e.Aliases[id])
		} else {
			errs = append(errs, policy.Errorf(policy.ValidationException, file, fmt.Sprintf("the aliases of a user that %s does not list", FileListUsers)))
		}
	}
	return errs.Err()
}

// checkAliases checks the aliases of a user whose email is email: at most
// MaxAliasesPerUser, each an email address, none twice and none the email
// (compared case-insensitively). Paths are prefix + "Aliases[j]".
func checkAliases(errs *policy.ErrorList, prefix, email string, aliases []string) {
	if len(aliases) > MaxAliasesPerUser {
		*errs = append(*errs, policy.Errorf(policy.LimitExceededException, prefix+"Aliases", fmt.Sprintf("%d aliases; at most %d per user", len(aliases), MaxAliasesPerUser)))
	}
	seen := map[string]bool{fold.String(email): email != ""}
	for j, a := range aliases {
		path := fmt.Sprintf("%sAliases[%d]", prefix, j)
		switch f := fold.String(a); {
		case !validEmail(a):
			*errs = append(*errs, policy.Errorf(policy.ValidationException, path, fmt.Sprintf("invalid email address %q", truncate(a, 70))))
		case seen[f]:
			*errs = append(*errs, policy.Errorf(policy.ValidationException, path, fmt.Sprintf("%q is the user's email or another of its aliases", truncate(a, 70))))
		default:
			seen[f] = true
		}
	}
}

// sortedAliases returns a copy of aliases in ListAliases order (ascending
// case-folded form).
func sortedAliases(aliases []string) []string {
	out := slices.Clone(aliases)
	slices.SortFunc(out, compareAliases)
	return out
}

// compareAliases orders aliases by their case-folded form.
func compareAliases(a, b string) int { return strings.Compare(fold.String(a), fold.String(b)) }

// describe is DescribeOrganization's answer for a record.
func describe(r *record) DescribeOrganizationOutput {
	out := DescribeOrganizationOutput{
		OrganizationId: r.OrganizationId, Alias: r.Alias, State: r.State,
		DirectoryId: r.DirectoryId, DirectoryType: "WorkMailDirectory",
		DefaultMailDomain: r.DefaultMailDomain, CompletedDate: r.DateCreated,
		InteroperabilityEnabled: r.InteroperabilityEnabled,
	}
	if r.DirectoryId != "" {
		out.DirectoryType = "ExistingDirectory"
	}
	return out
}
