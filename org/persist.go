package org

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/policy"
)

// SchemaVersion is the version of the state files this package writes and
// reads. A file with a higher version was written by a newer program and is
// refused; it is never overwritten.
const SchemaVersion = 1

// Names in the state directory.
const (
	orgsDirName  = "orgs"
	keysFileName = "keys.json"
	lockFileName = "LOCK"
)

// FileError is the error of a state file that Open refuses: the file's path
// and what is wrong with it (empty, truncated, corrupt, checksum mismatch,
// newer schema, invalid content). Err, when set, is the underlying error
// (for invalid content, the policy.ErrorList of the problems). Open never
// writes over a file it refused.
type FileError struct {
	File    string
	Problem string
	Err     error
}

// Error returns "org: state file FILE: PROBLEM[: underlying error]".
func (e *FileError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("org: state file %s: %s: %v", e.File, e.Problem, e.Err)
	}
	return fmt.Sprintf("org: state file %s: %s", e.File, e.Problem)
}

// Unwrap returns Err.
func (e *FileError) Unwrap() error { return e.Err }

// disk is an open state directory.
type disk struct {
	dir, orgs string
	lock      *os.File // nil when readOnly
	readOnly  bool     // Options.ReadOnly: no lock, nothing written or removed
}

func openDisk(dir string) (*disk, error) {
	d := &disk{dir: dir, orgs: filepath.Join(dir, orgsDirName)}
	if err := mkdirAllSync(d.orgs); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("org: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("org: state directory %s is in use by another process: %w", dir, err)
	}
	d.lock = f
	return d, nil
}

func (d *disk) close() error {
	if d.lock == nil {
		return nil
	}
	unlockFile(d.lock)
	return d.lock.Close()
}

// envelope writes the file format: {"Schema":1,"Sha256":"<hex of body>","<member>":<body>}.
// The checksum covers the body's exact bytes, so a flipped byte anywhere in
// the body (even inside a string, where the JSON stays valid) is detected.
func envelope(member string, body []byte) []byte {
	sum := sha256.Sum256(body)
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n\"Schema\": %d,\n\"Sha256\": %q,\n%q: ", SchemaVersion, hex.EncodeToString(sum[:]), member)
	b.Write(body)
	b.WriteString("\n}\n")
	return b.Bytes()
}

// openEnvelope checks a file's envelope and returns its body.
func openEnvelope(name string, data []byte, dst any, body func() json.RawMessage, sum func() string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &FileError{File: name, Problem: "the file is empty"}
	}
	var peek struct {
		Schema *int64 `json:"Schema"`
	}
	if err := json.Unmarshal(data, &peek); err != nil {
		return &FileError{File: name, Problem: "not valid JSON (truncated or corrupt)", Err: err}
	}
	switch {
	case peek.Schema == nil:
		return &FileError{File: name, Problem: "no schema version"}
	case *peek.Schema > SchemaVersion:
		return &FileError{File: name, Problem: fmt.Sprintf("schema version %d is newer than this program reads (%d); upgrade wmpolicy", *peek.Schema, SchemaVersion)}
	case *peek.Schema < 1:
		return &FileError{File: name, Problem: fmt.Sprintf("unknown schema version %d", *peek.Schema)}
	}
	if err := policy.DecodeStrict(data, dst); err != nil {
		return &FileError{File: name, Problem: "corrupt", Err: err}
	}
	got := sha256.Sum256(body())
	if hex.EncodeToString(got[:]) != sum() {
		return &FileError{File: name, Problem: "checksum mismatch: the file is corrupt"}
	}
	return nil
}

type orgFile struct {
	Schema       int             `json:"Schema"`
	Sha256       string          `json:"Sha256"`
	Organization json.RawMessage `json:"Organization"`
}

type keysFile struct {
	Schema int             `json:"Schema"`
	Sha256 string          `json:"Sha256"`
	Keys   json.RawMessage `json:"Keys"`
}

// keysBody is the content of keys.json: the impersonation token keys (the
// first signs) and the secret that MACs pagination tokens.
type keysBody struct {
	Keys       []keyJSON `json:"Keys"`
	PageSecret []byte    `json:"PageSecret"`
}

type keyJSON struct {
	Id     string `json:"Id"`
	Secret []byte `json:"Secret"` // standard base64
}

type storeKeys struct {
	keys    []impersonation.Key
	pageKey []byte
}

// newKeys generates a fresh key and page secret.
func (s *Store) newKeys() (storeKeys, error) {
	sec, err := s.randomBytes(impersonation.KeyMinSecretLen)
	if err != nil {
		return storeKeys{}, err
	}
	page, err := s.randomBytes(32)
	if err != nil {
		return storeKeys{}, err
	}
	id, err := s.randomBytes(4)
	if err != nil {
		return storeKeys{}, err
	}
	return storeKeys{keys: []impersonation.Key{{ID: "k-" + hex.EncodeToString(id), Secret: sec}}, pageKey: page}, nil
}

// writeFile writes data to dir/name atomically and durably: a temporary file
// in the same directory, fsync, rename over name, fsync of the directory. A
// crash at any point leaves either the old file or the new one. An error
// before the rename leaves the old file (nothing changed); a failed fsync of
// the directory after it wraps ErrDurabilityUncertain (the new file is in
// place).
func writeFile(dir, name string, data []byte) error {
	return writeFileSync(dir, name, data, true)
}

// noSync, set only by tests that reopen stores many times, skips the fsyncs
// (the rename stays atomic; only durability across power loss is given up).
var noSync = false

// syncDirFault, set only by tests, is called after the rename of every
// write; a non-nil answer is handled as a failed fsync of the directory
// (fault injection for ErrDurabilityUncertain).
var syncDirFault func(dir string) error

// ErrDurabilityUncertain is wrapped (errors.Is) by the error of a mutation
// whose new state file was renamed into place but whose directory could not
// be fsynced afterwards. The file system already shows the new file, so the
// next Open loads the new state unless the machine loses power before the
// directory reaches the disk; the store therefore treats the mutation as
// applied: the new state is published in memory too (memory and the visible
// file agree) and the call returns this error, with the output it would have
// returned on success (such as the new ID). Retrying an idempotent call is
// safe; the state may still revert to the one before after a power loss.
var ErrDurabilityUncertain = errors.New("org: the change was applied, but its durability is uncertain")

func writeFileSync(dir, name string, data []byte, sync bool) error {
	sync = sync && !noSync
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("org: writing %s: %w", filepath.Join(dir, name), err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("org: writing %s: %w", filepath.Join(dir, name), err)
	}
	// From here on the new file is in place: a failure is not "nothing
	// changed" but "changed, durability uncertain" (the previous version is
	// gone, so there is nothing to roll back to).
	uncertain := func(err error) error {
		return fmt.Errorf("%w: writing %s: %w", ErrDurabilityUncertain, filepath.Join(dir, name), err)
	}
	if syncDirFault != nil {
		if err := syncDirFault(dir); err != nil {
			return uncertain(err)
		}
	}
	if !sync {
		return nil
	}
	if err := syncDir(dir); err != nil {
		return uncertain(err)
	}
	return nil
}

// mkdirAllSync creates dir and any missing parents (mode 0700), as
// os.MkdirAll does, and makes the creation durable: every directory it
// created is fsynced, and so is the existing directory it created the first
// of them in. Without that, a power loss right after the first 'org create'
// could lose the whole state directory, fsynced files and all, because the
// entry naming it was never written to the disk.
func mkdirAllSync(dir string) error {
	var created []string // innermost first
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			break // let MkdirAll report it
		}
		created = append(created, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("org: %w", err)
	}
	if len(created) == 0 || noSync {
		return nil
	}
	// Each new directory, then the parent of the outermost new one.
	for _, p := range created {
		if err := syncDir(p); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(created[len(created)-1]))
}

// syncDirObserver, set only by tests, sees every directory syncDir fsyncs.
var syncDirObserver func(dir string)

func syncDir(dir string) error {
	if syncDirObserver != nil {
		syncDirObserver(dir)
	}
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there; the rename is durable on NTFS
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("org: syncing directory %s: %w", dir, err)
	}
	return nil
}

// writeOrg writes one organization's file.
func (d *disk) writeOrg(rec *record) error {
	body, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("org: encoding organization %s: %w", rec.OrganizationId, err)
	}
	return writeFile(d.orgs, rec.OrganizationId+".json", envelope("Organization", body))
}

// loadKeys reads keys.json, or creates it (mode 0600) when it does not exist.
func (s *Store) loadKeys(d *disk) error {
	name := filepath.Join(d.dir, keysFileName)
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		k, err := s.newKeys()
		if err != nil {
			return err
		}
		if d.readOnly { // nothing is written: keys for this process only
			s.keys, s.pageKey = k.keys, k.pageKey
			return nil
		}
		body := keysBody{PageSecret: k.pageKey}
		for _, key := range k.keys {
			body.Keys = append(body.Keys, keyJSON{Id: key.ID, Secret: key.Secret})
		}
		b, err := json.MarshalIndent(body, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFile(d.dir, keysFileName, envelope("Keys", b)); err != nil {
			return err
		}
		s.keys, s.pageKey = k.keys, k.pageKey
		return nil
	}
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return &FileError{File: name, Problem: fmt.Sprintf("the key file is accessible by group or others (mode %04o); chmod 600 it", fi.Mode().Perm())}
	}
	var f keysFile
	if err := openEnvelope(name, data, &f, func() json.RawMessage { return f.Keys }, func() string { return f.Sha256 }); err != nil {
		return err
	}
	return s.setKeys(name, f.Keys)
}

// setKeys decodes and checks the body of the keys (the state directory's
// keys.json, or PostgreSQL's keys row, named name in errors) and installs
// them.
func (s *Store) setKeys(name string, raw []byte) error {
	var body keysBody
	if err := policy.DecodeStrict(raw, &body); err != nil {
		return &FileError{File: name, Problem: "invalid content", Err: err}
	}
	if len(body.Keys) == 0 {
		return &FileError{File: name, Problem: "no keys"}
	}
	if len(body.PageSecret) < 32 {
		return &FileError{File: name, Problem: "PageSecret is shorter than 32 bytes"}
	}
	keys := make([]impersonation.Key, len(body.Keys))
	for i, k := range body.Keys {
		keys[i] = impersonation.Key{ID: k.Id, Secret: k.Secret}
	}
	if _, err := impersonation.NewKeyRing(keys[0], keys[1:]...); err != nil {
		return &FileError{File: name, Problem: "invalid keys", Err: err}
	}
	s.keys, s.pageKey = keys, body.PageSecret
	return nil
}

// load reads the state directory into idx (live organizations) and s.deleted.
func (s *Store) load(d *disk, idx map[string]*slot) error {
	// A key file write that never finished leaves a temporary file.
	if tmps, err := filepath.Glob(filepath.Join(d.dir, "."+keysFileName+".tmp-*")); err == nil && !d.readOnly {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	if err := s.loadKeys(d); err != nil {
		return err
	}
	entries, err := os.ReadDir(d.orgs)
	if err != nil {
		return fmt.Errorf("org: %w", err)
	}
	aliases := map[string]string{}     // folded alias → file
	directories := map[string]string{} // directory ID → file
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(d.orgs, name)
		if strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") {
			// A temporary file of a write that never finished: the real
			// file still holds the state before it.
			if !d.readOnly {
				os.Remove(path)
			}
			continue
		}
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || !policy.ValidOrganizationID(id) || e.IsDir() {
			return &FileError{File: path, Problem: "unexpected file in the state directory (want m-<32 hex digits>.json)"}
		}
		rec, snap, err := loadOrg(path, id)
		if err != nil {
			return err
		}
		if rec.CreateToken != nil {
			if t, ok := s.createTokens[rec.CreateToken.ClientToken]; !ok || t.Date < rec.CreateToken.Date {
				s.createTokens[rec.CreateToken.ClientToken] = *rec.CreateToken
			}
		}
		if rec.State == StateDeleted {
			s.deleted[id] = rec
			continue
		}
		if other, dup := aliases[fold.String(rec.Alias)]; dup {
			return &FileError{File: path, Problem: fmt.Sprintf("alias %q is also used by %s", rec.Alias, other)}
		}
		aliases[fold.String(rec.Alias)] = path
		if rec.DirectoryId != "" {
			if other, dup := directories[rec.DirectoryId]; dup {
				return &FileError{File: path, Problem: fmt.Sprintf("directory %s is also used by %s", rec.DirectoryId, other)}
			}
			directories[rec.DirectoryId] = path
		}
		sl := &slot{}
		sl.snap.Store(snap)
		idx[id] = sl
	}
	return nil
}

// loadOrg reads and fully validates one organization file.
func loadOrg(path, id string) (*record, *Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("org: %w", err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("org: %w", err)
	}
	return decodeOrg(path, id, data)
}

// decodeOrg checks, decodes, validates and compiles the bytes of the file of
// organization id (named path in errors).
func decodeOrg(path, id string, data []byte) (*record, *Snapshot, error) {
	var env orgFile
	if err := openEnvelope(path, data, &env, func() json.RawMessage { return env.Organization }, func() string { return env.Sha256 }); err != nil {
		return nil, nil, err
	}
	var rec record
	if err := policy.DecodeStrict(env.Organization, &rec); err != nil {
		return nil, nil, &FileError{File: path, Problem: "invalid content", Err: err}
	}
	if err := validateRecord(&rec, id); err != nil {
		return nil, nil, &FileError{File: path, Problem: "invalid content", Err: err}
	}
	if rec.State == StateDeleted {
		return &rec, nil, nil
	}
	snap, err := build(&rec, nil)
	if err != nil {
		return nil, nil, &FileError{File: path, Problem: "invalid content", Err: err}
	}
	return &rec, snap, nil
}

// validateRecord checks a loaded record as the operations would have.
func validateRecord(rec *record, id string) error {
	var errs policy.ErrorList
	add := func(path, msg string) { errs = append(errs, policy.Errorf(policy.ValidationException, path, msg)) }
	if rec.OrganizationId != id {
		add("OrganizationId", fmt.Sprintf("the file of %s holds organization %q", id, truncate(rec.OrganizationId, 40)))
	}
	in := CreateOrganizationInput{DirectoryId: rec.DirectoryId, Alias: rec.Alias, Domains: rec.Domains,
		KmsKeyArn: rec.KmsKeyArn, EnableInteroperability: rec.InteroperabilityEnabled}
	if err := in.validate(); err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if rec.State != StateActive && rec.State != StateDeleted {
		add("State", fmt.Sprintf("invalid state %q", truncate(rec.State, 40)))
	}
	if rec.DefaultMailDomain == "" {
		add("DefaultMailDomain", "missing")
	}
	if rec.Revision < 1 {
		add("Revision", "must be at least 1")
	}
	checkToken := func(p string, t tokenRecord) {
		if t.ClientToken == "" || checkClientToken(t.ClientToken) != "" {
			add(p+".ClientToken", "invalid ClientToken")
		}
		if len(t.Hash) != 64 {
			add(p+".Hash", "invalid hash")
		}
		if t.Id == "" {
			add(p+".Id", "missing")
		}
	}
	if rec.CreateToken != nil {
		checkToken("CreateToken", *rec.CreateToken)
	}
	for i, t := range rec.RoleTokens {
		checkToken(fmt.Sprintf("RoleTokens[%d]", i), t)
	}
	if rec.State == StateDeleted {
		if len(rec.Rules)+len(rec.Roles)+len(rec.Users)+len(rec.RoleTokens) != 0 {
			add("State", "a deleted organization holds no rules, roles or users")
		}
		return errs.Err()
	}
	if err := accessctl.ValidateRules(rec.Rules); err != nil {
		errs = append(errs, policy.Errors(err)...)
	}
	if !sort.SliceIsSorted(rec.Rules, func(i, j int) bool { return rec.Rules[i].Name < rec.Rules[j].Name }) {
		add("Rules", "rules are not in name order")
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	for i, r := range rec.Roles {
		p := fmt.Sprintf("Roles[%d]", i)
		if err := impersonation.ValidateRole(r); err != nil {
			for _, e := range policy.Errors(err) {
				errs = append(errs, e.WithPrefix(p))
			}
		}
		if r.ImpersonationRoleId == "" || ids[r.ImpersonationRoleId] {
			add(p+".ImpersonationRoleId", "missing or duplicated role ID")
		}
		if names[r.Name] {
			add(p+".Name", "duplicated role name")
		}
		ids[r.ImpersonationRoleId], names[r.Name] = true, true
		if i > 0 && !lessKey([2]string{rec.Roles[i-1].Name, rec.Roles[i-1].ImpersonationRoleId}, [2]string{r.Name, r.ImpersonationRoleId}) {
			add("Roles", "roles are not in (Name, ID) order")
		}
	}
	for i, u := range rec.Users {
		if i > 0 && rec.Users[i-1].Id >= u.Id {
			add("Users", "users are not in strictly ascending ID order")
			break
		}
	}
	return errs.Err()
}
