package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

// orgVerb is what an org verb that calls the store needs (see storeVerb).
type orgVerb struct {
	create bool // may create the state directory
	files  int  // positional JSON file arguments: 0 or 1
	flags  func(fs *flag.FlagSet) func(s *org.Store, orgID string, file []byte) (any, error)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// orgVerbs are the sub-commands of 'wmpolicy org'.
var orgVerbs = &verbSet{
	prefix: "wmpolicy org",
	noun:   "verb",
	head: `Usage: wmpolicy org VERB (--state DIR | --store postgres://…) [flags] [FILE]

`,
	indent: "  ",
	width:  13,
	foot: `
DIR is the state directory (created by the first 'create'); --store also
takes a PostgreSQL URL, a store shared by many processes (docs/postgres.md).
Verbs that change nothing (list, describe, list-*, get-role, assume) open a
directory without its lock, so they run next to 'wmpolicy serve' and on a
read-only mount. FILE "-" or no
FILE reads standard input. Answers are the AWS JSON shapes. Errors are
printed as CODE: Path: Message. Exit status: 0 success, 3 an API error
(invalid input, unknown organization, limit, …) or bad usage, 1 any other
failure (such as a state file that does not load).
`,
	list: []*verb{
		storeVerb("create", "Organizations:", "--alias ALIAS [--directory-id d-…] [--domain NAME]... [--kms-key-arn ARN] [--interoperability] [--client-token T]", orgVerb{create: true, flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			alias := fs.String("alias", "", "the organization's `ALIAS` (required)")
			dirID := fs.String("directory-id", "", "an existing directory `d-…`")
			var domains multiFlag
			fs.Var(&domains, "domain", "a mail `DOMAIN` (repeatable; the first is the default mail domain)")
			kms := fs.String("kms-key-arn", "", "KMS key `ARN`")
			interop := fs.Bool("interoperability", false, "enable interoperability (needs --directory-id)")
			token := fs.String("client-token", "", "idempotency `TOKEN`")
			return func(s *org.Store, _ string, _ []byte) (any, error) {
				in := org.CreateOrganizationInput{Alias: *alias, DirectoryId: *dirID, KmsKeyArn: *kms, EnableInteroperability: *interop, ClientToken: *token}
				for _, d := range domains {
					in.Domains = append(in.Domains, org.Domain{DomainName: d})
				}
				return s.CreateOrganization(context.Background(), in)
			}
		}}),
		storeVerb("list", "", "[--max-results N] [--next-token T]", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			var max optInt32
			fs.Var(&max, "max-results", "page size `N` (1-100; default 100)")
			next := fs.String("next-token", "", "continue a listing")
			return func(s *org.Store, _ string, _ []byte) (any, error) {
				return s.ListOrganizations(context.Background(), org.ListOrganizationsInput{MaxResults: max.p, NextToken: *next})
			}
		}}),
		storeVerb("describe", "", "--org ID", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.DescribeOrganization(context.Background(), org.DescribeOrganizationInput{OrganizationId: id})
			}
		}}),
		storeVerb("delete", "", "--org ID [--force] [--delete-directory=false] [--client-token T]", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			force := fs.Bool("force", false, "delete even when the organization has enabled users")
			delDir := fs.Bool("delete-directory", true, "DeleteDirectory")
			token := fs.String("client-token", "", "idempotency `TOKEN`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.DeleteOrganization(context.Background(), org.DeleteOrganizationInput{OrganizationId: id, ForceDelete: *force, DeleteDirectory: delDir, ClientToken: *token})
			}
		}}),
		storeVerb("put-rule", "Access-control rules:", "--org ID RULE.json        (PutAccessControlRule request; OrganizationId optional)", orgVerb{files: 1, flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			return func(s *org.Store, id string, file []byte) (any, error) {
				var in org.PutAccessControlRuleInput
				if err := decodeFor(file, &in, &in.OrganizationId, id); err != nil {
					return nil, err
				}
				return s.PutAccessControlRule(context.Background(), in)
			}
		}}),
		storeVerb("delete-rule", "", "--org ID --name NAME", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			name := fs.String("name", "", "the rule's `NAME`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.DeleteAccessControlRule(context.Background(), org.DeleteAccessControlRuleInput{OrganizationId: id, Name: *name})
			}
		}}),
		storeVerb("list-rules", "", "--org ID                  (prints list-access-control-rules output)", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.ListAccessControlRules(context.Background(), org.ListAccessControlRulesInput{OrganizationId: id})
			}
		}}),
		storeVerb("create-role", "Impersonation roles:", "--org ID ROLE.json        (CreateImpersonationRole request: Name, Type, Description, Rules, ClientToken)", orgVerb{files: 1, flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			return func(s *org.Store, id string, file []byte) (any, error) {
				var in org.CreateImpersonationRoleInput
				if err := decodeFor(file, &in, &in.OrganizationId, id); err != nil {
					return nil, err
				}
				return s.CreateImpersonationRole(context.Background(), in)
			}
		}}),
		storeVerb("get-role", "", "--org ID --role ROLE_ID", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			role := fs.String("role", "", "the `ROLE_ID`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.GetImpersonationRole(context.Background(), org.GetImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: *role})
			}
		}}),
		storeVerb("update-role", "", "--org ID --role ROLE_ID ROLE.json", orgVerb{files: 1, flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			role := fs.String("role", "", "the `ROLE_ID`")
			return func(s *org.Store, id string, file []byte) (any, error) {
				var in org.UpdateImpersonationRoleInput
				if err := decodeFor(file, &in, &in.OrganizationId, id); err != nil {
					return nil, err
				}
				if in.ImpersonationRoleId != "" && in.ImpersonationRoleId != *role {
					return nil, policy.Errorf(policy.InvalidParameterException, "ImpersonationRoleId", "the file names another role than --role")
				}
				in.ImpersonationRoleId = *role
				return s.UpdateImpersonationRole(context.Background(), in)
			}
		}}),
		storeVerb("delete-role", "", "--org ID --role ROLE_ID", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			role := fs.String("role", "", "the `ROLE_ID`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.DeleteImpersonationRole(context.Background(), org.DeleteImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: *role})
			}
		}}),
		storeVerb("list-roles", "", "--org ID [--max-results N] [--next-token T]", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			var max optInt32
			fs.Var(&max, "max-results", "page size `N` (1-100; default 20)")
			next := fs.String("next-token", "", "continue a listing")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.ListImpersonationRoles(context.Background(), org.ListImpersonationRolesInput{OrganizationId: id, MaxResults: max.p, NextToken: *next})
			}
		}}),
		storeVerb("assume", "", `--org ID --role ROLE_ID   (prints {"Token": …, "ExpiresIn": 900})`, orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			role := fs.String("role", "", "the `ROLE_ID`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.AssumeImpersonationRole(context.Background(), org.AssumeImpersonationRoleInput{OrganizationId: id, ImpersonationRoleId: *role})
			}
		}}),
		storeVerb("import-users", "Users:", "--org ID USERS.json       (list-users output; replaces every user, aliases too)", orgVerb{files: 1, flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			return func(s *org.Store, id string, file []byte) (any, error) {
				out, err := policy.DecodeListUsers(file)
				if err != nil {
					return nil, err
				}
				return s.ImportUsers(context.Background(), org.ImportUsersInput{OrganizationId: id, Users: out.Users})
			}
		}}),
		storeVerb("put-user", "", "--org ID --id ID [--email E] [--alias A]... [--name N] [--display-name D] [--user-state ENABLED|DISABLED|DELETED]", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			var u org.User
			fs.StringVar(&u.Id, "id", "", "the user's `ID` (required)")
			fs.StringVar(&u.Email, "email", "", "primary email address")
			var aliases multiFlag
			fs.Var(&aliases, "alias", "a further email `ADDRESS` (repeatable)")
			fs.StringVar(&u.Name, "name", "", "user name")
			fs.StringVar(&u.DisplayName, "display-name", "", "display name")
			fs.StringVar(&u.State, "user-state", "ENABLED", "the user's state: ENABLED, DISABLED or DELETED")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				u.Aliases = aliases
				return s.PutUser(context.Background(), org.PutUserInput{OrganizationId: id, User: u})
			}
		}}),
		storeVerb("delete-user", "", "--org ID --id ID", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			user := fs.String("id", "", "the user's `ID`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.DeleteUser(context.Background(), org.DeleteUserInput{OrganizationId: id, UserId: *user})
			}
		}}),
		storeVerb("list-users", "", "--org ID [--max-results N] [--next-token T]", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			var max optInt32
			fs.Var(&max, "max-results", "page size `N` (1-100; default 20)")
			next := fs.String("next-token", "", "continue a listing")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.ListUsers(context.Background(), org.ListUsersInput{OrganizationId: id, MaxResults: max.p, NextToken: *next})
			}
		}}),
		storeVerb("create-alias", "", "--org ID --id USER --alias ADDRESS   (CreateAlias: one more email address of a user)", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			user := fs.String("id", "", "the user's `ID`, user name, email or alias")
			alias := fs.String("alias", "", "the alias, an email `ADDRESS` in one of the organization's domains")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.CreateAlias(context.Background(), org.CreateAliasInput{OrganizationId: id, EntityId: *user, Alias: *alias})
			}
		}}),
		storeVerb("delete-alias", "", "--org ID --id USER --alias ADDRESS", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			user := fs.String("id", "", "the user's `ID`, user name, email or alias")
			alias := fs.String("alias", "", "the alias `ADDRESS`")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.DeleteAlias(context.Background(), org.DeleteAliasInput{OrganizationId: id, EntityId: *user, Alias: *alias})
			}
		}}),
		storeVerb("list-aliases", "", "--org ID --id USER [--max-results N] [--next-token T]", orgVerb{flags: func(fs *flag.FlagSet) func(*org.Store, string, []byte) (any, error) {
			user := fs.String("id", "", "the user's `ID`, user name, email or alias")
			var max optInt32
			fs.Var(&max, "max-results", "page size `N` (1-100; default 20)")
			next := fs.String("next-token", "", "continue a listing")
			return func(s *org.Store, id string, _ []byte) (any, error) {
				return s.ListAliases(context.Background(), org.ListAliasesInput{OrganizationId: id, EntityId: *user, MaxResults: max.p, NextToken: *next})
			}
		}}),
		{name: "export", group: "Moving an organization in and out (the AWS CLI's own output files):", run: cmdOrgExport, synopsis: []string{"--org ID OUTDIR           (describe-organization, list-mail-domains, list-access-control-rules,\n                                           list-users, list-impersonation-roles, get-impersonation-role-ROLE_ID,\n                                           list-aliases-USER_ID)"}},
		{name: "import", group: "", run: cmdOrgImport, synopsis: []string{"INDIR                     (the same files as 'aws workmail …' prints them; keeps every ID and date)"}},
	},
}

// optInt32 is an optional integer flag: p stays nil unless the flag is
// given, so that an absent --max-results (the default page) differs from an
// explicit --max-results 0 (a ValidationException, exit 3). Values beyond
// the int32 range are clamped to it; the store refuses them as out of range.
type optInt32 struct{ p *int32 }

func (o *optInt32) String() string {
	if o == nil || o.p == nil {
		return ""
	}
	return strconv.Itoa(int(*o.p))
}

func (o *optInt32) Set(v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return errors.New("not an integer")
		}
	}
	n = max(math.MinInt32, min(math.MaxInt32, n))
	i := int32(n)
	o.p = &i
	return nil
}

// decodeFor decodes a request file strictly; its OrganizationId, when set,
// must be the one of --org.
func decodeFor(file []byte, v any, orgField *string, orgID string) error {
	if err := policy.DecodeStrict(file, v); err != nil {
		return err
	}
	if *orgField != "" && *orgField != orgID {
		return policy.Errorf(policy.InvalidParameterException, "OrganizationId", "the file names another organization than --org")
	}
	*orgField = orgID
	return nil
}

// openState opens the store of a CLI call: a state directory, or a
// PostgreSQL database when dir is a postgres:// URL. Without create, a
// directory that holds no state is an error rather than a new empty state.
// readOnly opens it for reading only (no lock on a directory).
func openState(dir string, create, readOnly bool) (*org.Store, *problem) {
	return openStateAt(dir, create, readOnly, nil)
}

// openStateAt is openState with the store's clock (nil: the system clock).
func openStateAt(dir string, create, readOnly bool, clock func() time.Time) (*org.Store, *problem) {
	if dir == "" {
		return nil, &problem{err: errors.New("--state DIR (or --store postgres://…) is required"), code: exitInvalid}
	}
	if isStoreURL(dir) {
		s, err := org.Open(org.Options{Postgres: dir, ReadOnly: readOnly, Clock: clock})
		if err != nil {
			return nil, &problem{err: err, code: exitFailure}
		}
		return s, nil
	}
	if !create {
		if _, err := os.Stat(filepath.Join(dir, "keys.json")); err != nil {
			return nil, &problem{err: fmt.Errorf("no organization state in %s (create one with 'wmpolicy org create --state %s --alias …')", dir, dir), code: exitFailure}
		}
	}
	s, err := org.Open(org.Options{Dir: dir, ReadOnly: readOnly, Clock: clock})
	if err != nil {
		return nil, &problem{err: err, code: exitFailure}
	}
	return s, nil
}

// storeVerb returns the org verb name, listed under group (when not "")
// with one synopsis line, that calls the store as o says.
func storeVerb(name, group, synopsis string, o orgVerb) *verb {
	return &verb{name: name, group: group, synopsis: []string{synopsis},
		run: func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
			return runStoreVerb(name, o, args, stdout, stderr)
		}}
}

// runStoreVerb runs the org verb name: flags, the request file, the store
// call and its answer.
func runStoreVerb(name string, verb orgVerb, args []string, stdout, stderr io.Writer) int {
	prefix := "wmpolicy org " + name
	fs := newVerbFlags(prefix, stderr)
	state := fs.String("state", "", "the state `DIR` (required)")
	storeFlag(fs, state)
	orgID := fs.String("org", "", "the organization `ID` (m-…)")
	call := verb.flags(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) > verb.files {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", prefix, pos[verb.files])
		return exitInvalid
	}
	needsOrg := name != "create" && name != "list"
	if needsOrg && *orgID == "" {
		fmt.Fprintf(stderr, "%s: --org is required\n", prefix)
		return exitInvalid
	}
	var file []byte
	if verb.files == 1 {
		var prob *problem
		name := "-"
		if len(pos) > 0 {
			name = pos[0]
		}
		if file, prob = readFile(name); prob != nil {
			return prob.exit(stderr)
		}
	}
	s, prob := openState(*state, verb.create, readOnlyVerbs[name])
	if prob != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, prob.err)
		return prob.code
	}
	defer s.Close()
	out, err := call(s, *orgID, file)
	return printOrgResult(prefix, out, err, stdout, stderr)
}

// printOrgResult prints the answer of an org verb: the output (exit 0), an
// API error with its code (exit 3), an I/O error in its own words (exit 1), or
// — for ErrDurabilityUncertain, a change applied whose directory fsync failed
// — the output the library returned with it, such as a new organization's ID,
// and the error (exit 1).
func printOrgResult(prefix string, out any, err error, stdout, stderr io.Writer) int {
	if errors.Is(err, org.ErrDurabilityUncertain) {
		if werr := writeJSON(stdout, out, "    "); werr != nil {
			fmt.Fprintf(stderr, "%s: writing standard output: %v\n", prefix, werr)
		}
		fmt.Fprintf(stderr, "%s: %v\n", prefix, err)
		return exitFailure
	}
	if err != nil {
		if policy.CodeOf(err) == "" {
			fmt.Fprintf(stderr, "%s: %v\n", prefix, err) // an I/O error, in its own words
			return exitFailure
		}
		for _, e := range policy.Errors(err) {
			fmt.Fprintf(stderr, "%s: %s\n", prefix, e.Error())
		}
		return exitInvalid
	}
	if err := writeJSON(stdout, out, "    "); err != nil {
		fmt.Fprintf(stderr, "%s: writing standard output: %v\n", prefix, err)
		return exitFailure
	}
	return 0
}

// loadStatePolicy returns the compiled access-control rules of organization
// orgID in the state directory dir (eval --state DIR --org ID).
func loadStatePolicy(dir, orgID string) (*accessctl.Policy, func(string) error, *problem) {
	snap, prob := loadStateSnapshot(dir, orgID)
	if prob != nil {
		return nil, nil, prob
	}
	roleExists := func(id string) error {
		if snap.Role(id) == nil {
			return policy.Errorf(policy.ResourceNotFoundException, "ImpersonationRoleId",
				fmt.Sprintf("impersonation role %.64q not found in organization %s", id, orgID))
		}
		return nil
	}
	return snap.Policy(), roleExists, nil
}

// loadStateRole returns the compiled role roleID of organization orgID in the
// state directory dir (impersonation-effect --state DIR --org ID --role-id R).
func loadStateRole(dir, orgID, roleID string) (*impersonation.Evaluator, *problem) {
	snap, prob := loadStateSnapshot(dir, orgID)
	if prob != nil {
		return nil, prob
	}
	ev := snap.Role(roleID)
	if ev == nil {
		return nil, &problem{err: policy.Errorf(policy.ResourceNotFoundException, "ImpersonationRoleId",
			fmt.Sprintf("impersonation role %q not found in organization %s", roleID, orgID)), code: exitInvalid}
	}
	return ev, nil
}

func loadStateSnapshot(dir, orgID string) (*org.Snapshot, *problem) {
	if orgID == "" {
		return nil, &problem{err: errors.New("--org is required with --state"), code: exitInvalid}
	}
	s, prob := openState(dir, false, true)
	if prob != nil {
		return nil, prob
	}
	defer s.Close()
	h, err := s.Handle(orgID)
	if err != nil {
		return nil, &problem{err: err, code: exitInvalid}
	}
	return h.Snapshot(), nil
}

// printStateProblem prints a problem of loading a state: API errors with their
// code, others (a missing or damaged state) as their own text.
func printStateProblem(w io.Writer, prefix string, p *problem) {
	if policy.CodeOf(p.err) == "" {
		fmt.Fprintf(w, "%s: %v\n", prefix, p.err)
		return
	}
	p.print(w)
}
