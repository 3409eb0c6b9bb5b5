package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
	orgpkg "github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

// tokenVerbs are the sub-commands of 'wmpolicy token'.
var tokenVerbs = &verbSet{
	prefix: "wmpolicy token",
	noun:   "command",
	head:   "Usage:\n",
	indent: "  wmpolicy token ",
	width:  6,
	foot: `
--state DIR uses the keys of a 'wmpolicy org' state directory (DIR/keys.json,
the same keys 'wmpolicy org assume' signs with) and its live roles: issue
refuses a role the organization does not have, verify refuses a token of a
deleted role (--role-exists is then not needed, and not allowed). KEYFILE is
for tokens made outside any state. The two are different files: keys.json
also holds the store's page-token secret and is the store's own.

issue prints an AssumeImpersonationRole response, {"Token": ..., "ExpiresIn": 900}.
verify checks TOKEN (or the token on standard input) offline and prints its
claims as JSON (exit 0), or prints why it is invalid (exit 2). With
--role-exists flags only those roles exist (a token of any other role is
"role deleted"); without them every role exists.
genkey prints a new key file with one fresh random key (--out FILE writes it
with mode 0600 and never overwrites).

KEYFILE is JSON, readable only by its owner (chmod 600):
  {"Keys": [{"Id": "k2", "Secret": "<base64 of at least 32 random bytes>"},
            {"Id": "k1", "Secret": "..."}]}
The first key signs; all of them verify. To rotate, put a new key first and
keep the old ones after it until their tokens have expired (900 seconds).
Key IDs are 1-32 characters of A-Z a-z 0-9 . _ - and are public.
Exit status: 0 success, 2 invalid token, 3 invalid usage, key file or
argument, 1 other failure.
`,
	list: []*verb{
		{name: "issue", run: cmdTokenIssue, synopsis: []string{"(--key KEYFILE | --state DIR) --org ORG_ID --role ROLE_ID [--now RFC3339]"}},
		{name: "verify", run: cmdTokenVerify, synopsis: []string{"(--key KEYFILE | --state DIR) --org ORG_ID [--role-exists ROLE_ID ...] [--now RFC3339] [TOKEN]"}},
		{name: "genkey", run: cmdTokenGenkey, synopsis: []string{"[--id ID] [--out FILE]"}},
	},
}

// keyFile is the key file's shape. The first key is the current one.
type keyFile struct {
	Keys []keyFileKey `json:"Keys"`
}

type keyFileKey struct {
	Id     string `json:"Id"`
	Secret string `json:"Secret"` // standard base64, with padding
}

// loadKeyRing reads a key file strictly and builds the key ring. Problems
// never quote a secret. A file that group or others may access gets a warning.
func loadKeyRing(name string, stderr io.Writer) (*impersonation.KeyRing, *problem) {
	const maxKeyFile = 1 << 20
	var data []byte
	if name == "-" {
		d, prob := readFile(name)
		if prob != nil {
			return nil, prob
		}
		data = d
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, &problem{err: err, code: exitFailure}
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(stderr, "wmpolicy token: warning: %s is accessible by group or others (mode %04o); run chmod 600 %s\n",
				quoteText(name), fi.Mode().Perm(), quoteText(name))
		}
		data, err = io.ReadAll(io.LimitReader(f, maxKeyFile+1))
		if err != nil {
			return nil, &problem{err: err, code: exitFailure}
		}
	}
	if len(data) > maxKeyFile {
		return nil, &problem{file: name, err: policy.Errorf(policy.ValidationException, "", "key file larger than 1 MiB"), code: exitInvalid}
	}
	var kf keyFile
	err := policy.DecodeStrict(data, &kf)
	clear(data)
	if err != nil {
		return nil, &problem{file: name, err: err, code: exitInvalid}
	}
	if len(kf.Keys) == 0 {
		return nil, &problem{file: name, err: policy.Errorf(policy.ValidationException, "Keys", "no keys: want at least one {\"Id\": …, \"Secret\": …}"), code: exitInvalid}
	}
	var errs policy.ErrorList
	keys := make([]impersonation.Key, len(kf.Keys))
	for i, k := range kf.Keys {
		secret, err := base64.StdEncoding.Strict().DecodeString(k.Secret)
		if err != nil {
			errs = append(errs, policy.Errorf(policy.ValidationException, fmt.Sprintf("Keys[%d].Secret", i), "the secret is not standard base64"))
			continue
		}
		keys[i] = impersonation.Key{ID: k.Id, Secret: secret}
	}
	defer func() {
		for _, k := range keys {
			clear(k.Secret)
		}
	}()
	if len(errs) > 0 {
		return nil, &problem{file: name, err: errs, code: exitInvalid}
	}
	ring, err := impersonation.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		var l policy.ErrorList
		for _, e := range policy.Errors(err) {
			c := *e
			c.Path = strings.Replace(c.Path, ".ID", ".Id", 1) // the file's member name
			l = append(l, &c)
		}
		return nil, &problem{file: name, err: l, code: exitInvalid}
	}
	return ring, nil
}

// nowFlag parses --now: "" is the system clock.
func nowFlag(s string) (func() time.Time, error) {
	if s == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--now must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", s)
	}
	return func() time.Time { return t }, nil
}

func cmdTokenIssue(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy token issue"
	fs := newVerbFlags("token issue", stderr)
	keyName := fs.String("key", "", "`KEYFILE`: the key file (this or --state)")
	stateDir := fs.String("state", "", "`DIR`: use the keys and roles of this 'wmpolicy org' state (this or --key)")
	storeFlag(fs, stateDir)
	org := fs.String("org", "", "organization `ID` (m- and 32 hex digits; required)")
	role := fs.String("role", "", "impersonation role `ID` (required)")
	now := fs.String("now", "", "issue at this `RFC3339` time instead of now")
	if !parseFlagsOnly(fs, args, name, stderr) {
		return exitInvalid
	}
	if (*keyName == "") == (*stateDir == "") {
		fmt.Fprintf(stderr, "%s: give exactly one of --key KEYFILE and --state DIR\n", name)
		return exitInvalid
	}
	if *stateDir != "" {
		*keyName = "-" // checked below; the state's keys are used instead
	}
	for _, req := range []struct{ flag, val string }{{"key", *keyName}, {"org", *org}, {"role", *role}} {
		if req.val == "" {
			fmt.Fprintf(stderr, "%s: --%s is required\n", name, req.flag)
			return exitInvalid
		}
	}
	clock, err := nowFlag(*now)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitInvalid
	}
	if *stateDir != "" {
		s, prob := openStateAt(*stateDir, false, true, clock)
		if prob != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, prob.err)
			return prob.code
		}
		defer s.Close()
		out, err := s.AssumeImpersonationRole(context.Background(), orgpkg.AssumeImpersonationRoleInput{OrganizationId: *org, ImpersonationRoleId: *role})
		return printIssued(name, out, err, stdout, stderr)
	}
	ring, prob := loadKeyRing(*keyName, stderr)
	if prob != nil {
		return prob.exit(stderr)
	}
	is, err := impersonation.NewIssuer(ring, impersonation.IssuerOptions{Clock: clock})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	out, err := is.AssumeImpersonationRole(*org, *role)
	return printIssued(name, out, err, stdout, stderr)
}

// printIssued prints an AssumeImpersonationRole answer, or its error.
func printIssued(name string, out any, err error, stdout, stderr io.Writer) int {
	if err != nil {
		if policy.CodeOf(err) == "" {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
		for _, e := range policy.Errors(err) {
			fmt.Fprintf(stderr, "%s: %s\n", name, e.Error())
		}
		return exitInvalid
	}
	if err := writeJSON(stdout, out, "    "); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	return 0
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func cmdTokenVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy token verify"
	fs := newVerbFlags("token verify", stderr)
	keyName := fs.String("key", "", "`KEYFILE`: the key file (this or --state)")
	stateDir := fs.String("state", "", "`DIR`: verify with the keys and live roles of this 'wmpolicy org' state (this or --key)")
	storeFlag(fs, stateDir)
	org := fs.String("org", "", "organization `ID` the token must be for (required)")
	var roles stringList
	fs.Var(&roles, "role-exists", "a role `ID` that exists (repeatable); without it, every role exists")
	now := fs.String("now", "", "verify at this `RFC3339` time instead of now")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "%s: want at most one TOKEN argument, got %d\n", name, len(pos))
		return exitInvalid
	}
	if (*keyName == "") == (*stateDir == "") {
		fmt.Fprintf(stderr, "%s: give exactly one of --key KEYFILE and --state DIR\n", name)
		return exitInvalid
	}
	if *stateDir != "" && len(roles) > 0 {
		fmt.Fprintf(stderr, "%s: --role-exists is for --key; with --state the organization's live roles are the ones that exist\n", name)
		return exitInvalid
	}
	if *stateDir != "" {
		*keyName = "-"
	}
	for _, req := range []struct{ flag, val string }{{"key", *keyName}, {"org", *org}} {
		if req.val == "" {
			fmt.Fprintf(stderr, "%s: --%s is required\n", name, req.flag)
			return exitInvalid
		}
	}
	if !policy.ValidOrganizationID(*org) {
		fmt.Fprintf(stderr, "%s: --org %q must be m- and 32 lowercase hexadecimal digits\n", name, *org)
		return exitInvalid
	}
	clock, err := nowFlag(*now)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitInvalid
	}
	var token string
	if len(pos) == 1 {
		token = pos[0]
	} else {
		data, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			fmt.Fprintf(stderr, "%s: reading standard input: %v\n", name, err)
			return exitFailure
		}
		token = string(bytes.TrimSpace(data))
	}
	if token == "" {
		fmt.Fprintf(stderr, "%s: no token: give it as an argument or on standard input\n", name)
		return exitInvalid
	}
	var verify func(token, org string) (impersonation.TokenClaims, error)
	if *stateDir != "" {
		s, prob := openStateAt(*stateDir, false, true, clock)
		if prob != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, prob.err)
			return prob.code
		}
		defer s.Close()
		verify = s.VerifyToken
	} else {
		v, code := keyFileVerifier(name, *keyName, roles, clock, stderr)
		if v == nil {
			return code
		}
		verify = v.Verify
	}
	c, err := verify(token, *org)
	if err != nil {
		var te *impersonation.TokenError
		if errors.As(err, &te) {
			fmt.Fprintf(stderr, "%s: invalid token: %s (%s)\n", name, te.Reason.String(), te.Err.Error())
			return exitDeny
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	return printClaims(name, c, stdout, stderr)
}

// keyFileVerifier builds the verifier of token verify --key: the key file's
// keys, the --role-exists roles (none: every role exists) and the clock. On a
// problem it prints it and returns nil and the exit status.
func keyFileVerifier(name, keyName string, roles []string, clock func() time.Time, stderr io.Writer) (*impersonation.Verifier, int) {
	ring, prob := loadKeyRing(keyName, stderr)
	if prob != nil {
		return nil, prob.exit(stderr)
	}
	exists := func(string, string) bool { return true }
	if len(roles) > 0 {
		set := make(map[string]bool, len(roles))
		for _, r := range roles {
			set[r] = true
		}
		exists = func(_, role string) bool { return set[role] }
	}
	v, err := impersonation.NewVerifier(ring, impersonation.VerifierOptions{Clock: clock, RoleExists: exists})
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, exitFailure
	}
	return v, 0
}

// printClaims prints the claims of a verified token.
func printClaims(name string, c impersonation.TokenClaims, stdout, stderr io.Writer) int {
	if err := writeJSON(stdout, c, "    "); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	return 0
}

func cmdTokenGenkey(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "wmpolicy token genkey"
	fs := newVerbFlags("token genkey", stderr)
	id := fs.String("id", "", "the key `ID` (default k-YYYYMMDD-HHMMSS, the time in UTC)")
	out := fs.String("out", "", "write the key file to `FILE` (mode 0600, must not exist) instead of standard output")
	if !parseFlagsOnly(fs, args, name, stderr) {
		return exitInvalid
	}
	if *id == "" {
		*id = "k-" + time.Now().UTC().Format("20060102-150405")
	}
	secret := make([]byte, impersonation.KeyMinSecretLen)
	defer clear(secret)
	if _, err := io.ReadFull(rand.Reader, secret); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	if _, err := impersonation.NewKeyRing(impersonation.Key{ID: *id, Secret: secret}); err != nil {
		for _, e := range policy.Errors(err) {
			fmt.Fprintf(stderr, "%s: --id: %s\n", name, e.Message)
		}
		return exitInvalid
	}
	var buf bytes.Buffer
	kf := keyFile{Keys: []keyFileKey{{Id: *id, Secret: base64.StdEncoding.EncodeToString(secret)}}}
	if err := writeJSON(&buf, kf, "    "); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	defer clear(buf.Bytes())
	if *out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return exitFailure
		}
		return 0
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		os.Remove(*out)
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	if err := f.Close(); err != nil {
		os.Remove(*out)
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return exitFailure
	}
	fmt.Fprintf(stderr, "%s: wrote key %s to %s\n", name, *id, *out)
	return 0
}
