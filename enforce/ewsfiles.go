package enforce

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// EWSFilesOptions configure NewEWSFiles.
type EWSFilesOptions struct {
	// OrganizationID is the organization (m-…) tokens are issued for; required.
	OrganizationID string
	// KeyFile is the key file tokens are signed with, in the format
	// `wmpolicy token` reads: {"Keys": [{"Id": …, "Secret": "<base64>"}, …]},
	// the first key current; required. At most 1 MiB.
	KeyFile string
	// RoleFiles are `aws workmail get-impersonation-role` outputs, one role
	// each, with its ImpersonationRoleId; at least one.
	RoleFiles []string
	// Poll is how often, at most, a request looks at the files for changes;
	// 0 means one second.
	Poll time.Duration
	// Clock verifies token times; nil means time.Now.
	Clock func() time.Time
	// Log receives one record per reload; nil means slog.Default().
	Log *slog.Logger
}

// EWSFiles are the impersonation roles and token keys of a FileSource
// deployment, read from files and reloaded when they change: at most once
// per Poll, the first impersonated request after it stats the files (no
// goroutine), and a change that reads and validates is used from then on;
// an invalid change is logged and the version in force stays, as a
// FileSource does with rules.
//
// It is safe for concurrent use.
type EWSFiles struct {
	opts  EWSFilesOptions
	log   *slog.Logger
	cur   atomic.Pointer[ewsFilesVersion]
	next  atomic.Int64 // UnixNano of the next look at the files
	mu    sync.Mutex   // serializes Check
	files []*watchedFile
}

type ewsFilesVersion struct {
	roles []impersonation.Role
	keys  *impersonation.KeyRing
	gen   uint64
}

// NewEWSFiles reads and checks the files; any problem is an error naming the
// file.
func NewEWSFiles(opts EWSFilesOptions) (*EWSFiles, error) {
	switch {
	case opts.OrganizationID == "":
		return nil, errors.New("enforce: EWS files: the organization ID is required")
	case opts.KeyFile == "":
		return nil, errors.New("enforce: EWS files: a key file is required")
	case len(opts.RoleFiles) == 0:
		return nil, errors.New("enforce: EWS files: at least one role file is required")
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	f := &EWSFiles{opts: opts, log: opts.Log}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.files = append(f.files, &watchedFile{path: opts.KeyFile})
	for _, r := range opts.RoleFiles {
		f.files = append(f.files, &watchedFile{path: r})
	}
	now := time.Now()
	for _, w := range f.files {
		if _, err := w.poll(now); err != nil {
			return nil, &FileError{w.path, err}
		}
	}
	v, err := f.load()
	if err != nil {
		return nil, err
	}
	v.gen = 1
	f.cur.Store(v)
	f.next.Store(now.Add(opts.Poll).UnixNano())
	return f, nil
}

// load decodes the files' last read contents.
func (f *EWSFiles) load() (*ewsFilesVersion, error) {
	keys, err := decodeKeyFile(f.files[0].data)
	if err != nil {
		return nil, &FileError{f.files[0].path, err}
	}
	v := &ewsFilesVersion{keys: keys}
	seen := map[string]string{}
	for _, w := range f.files[1:] {
		r, err := impersonation.DecodeRole(w.data)
		if err != nil {
			return nil, &FileError{w.path, err}
		}
		if r.ImpersonationRoleId == "" {
			return nil, &FileError{w.path, policy.Errorf(policy.ValidationException, "ImpersonationRoleId", "the role has no ID")}
		}
		if other, dup := seen[r.ImpersonationRoleId]; dup {
			return nil, &FileError{w.path, policy.Errorf(policy.ValidationException, "ImpersonationRoleId", "the role of "+other+" again")}
		}
		seen[r.ImpersonationRoleId] = w.path
		v.roles = append(v.roles, r)
	}
	return v, nil
}

// decodeKeyFile reads a `wmpolicy token` key file strictly; messages never
// quote a secret.
func decodeKeyFile(data []byte) (*impersonation.KeyRing, error) {
	if len(data) > 1<<20 {
		return nil, policy.Errorf(policy.ValidationException, "", "key file larger than 1 MiB")
	}
	var kf struct {
		Keys []struct {
			Id     string `json:"Id"`
			Secret string `json:"Secret"`
		} `json:"Keys"`
	}
	if err := policy.DecodeStrict(data, &kf); err != nil {
		return nil, err
	}
	if len(kf.Keys) == 0 {
		return nil, policy.Errorf(policy.ValidationException, "Keys", "no keys")
	}
	keys := make([]impersonation.Key, len(kf.Keys))
	defer func() {
		for _, k := range keys {
			clear(k.Secret)
		}
	}()
	for i, k := range kf.Keys {
		secret, err := base64.StdEncoding.Strict().DecodeString(k.Secret)
		if err != nil {
			return nil, policy.Errorf(policy.ValidationException, fmt.Sprintf("Keys[%d].Secret", i), "the secret is not standard base64")
		}
		keys[i] = impersonation.Key{ID: k.Id, Secret: secret}
	}
	return impersonation.NewKeyRing(keys[0], keys[1:]...)
}

// Check looks at the files once and, when any changed and all read and
// validate, makes them the version in force. It returns the problem that
// kept the version in force, or nil.
func (f *EWSFiles) Check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.next.Store(now.Add(f.opts.Poll).UnixNano())
	changed := false
	var errs []error
	for _, w := range f.files {
		c, err := w.poll(now)
		changed = changed || c
		if err != nil {
			errs = append(errs, &FileError{w.path, err})
		}
	}
	if err := errors.Join(errs...); err != nil {
		f.log.Error("EWS role or key files unreadable: keeping the version in force", "error", err)
		return err
	}
	if !changed {
		return nil
	}
	v, err := f.load()
	if err != nil {
		f.log.Error("EWS role or key files rejected: keeping the version in force", "error", err)
		return err
	}
	v.gen = f.cur.Load().gen + 1
	f.cur.Store(v)
	f.log.Info("EWS role and key files reloaded", "generation", v.gen, "roles", len(v.roles), "keys", len(v.keys.KeyIDs()))
	return nil
}

// maybeCheck runs Check when Poll has passed since the last one.
func (f *EWSFiles) maybeCheck() {
	if time.Now().UnixNano() < f.next.Load() {
		return
	}
	f.Check()
}

// Authorizers returns the EWS authorizers of src with these roles and keys:
// the roles are compiled against each snapshot's directory (B2) and decide
// with its rules; a change of the files or of the snapshot builds anew.
func (f *EWSFiles) Authorizers(src Source) *EWSAuthorizers {
	a := NewEWSAuthorizers(src, func(s Snapshot) (*impersonation.EWSAuthorizer, error) {
		v := f.cur.Load()
		return FileEWSAuthorizer(f.opts.OrganizationID, v.roles, v.keys, f.opts.Clock)(s)
	}, f.log)
	a.version = func() uint64 {
		f.maybeCheck()
		return f.cur.Load().gen
	}
	return a
}
