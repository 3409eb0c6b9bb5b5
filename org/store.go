package org

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Limits of the store (SEMANTICS A14, B5, B7, C3).
const (
	// DefaultRuleLimit is WorkMail's limit of access-control rules per
	// organization, the default rule included (A14). Options.RuleLimit raises it.
	DefaultRuleLimit = accessctl.WorkMailRuleLimit
	// DefaultRoleLimit is the limit of impersonation roles per organization
	// (B5). Options.RoleLimit raises it.
	DefaultRoleLimit = 20
	// MaxResults is the largest page of ListOrganizations and ListImpersonationRoles.
	MaxResults = 100
	// DefaultOrganizationsPage and DefaultRolesPage are the page sizes when
	// MaxResults is absent (C3, B7).
	DefaultOrganizationsPage = 100 // ListOrganizations (C3)
	DefaultRolesPage         = 20  // ListImpersonationRoles (B7)
	// ClientTokenLifetime is how long a ClientToken is remembered (B5, C1).
	ClientTokenLifetime = 24 * time.Hour
)

// Organization states, as DescribeOrganization and ListOrganizations report them.
const (
	StateActive  = "Active"  // a live organization
	StateDeleted = "Deleted" // the answer of DeleteOrganization
)

// Options configure Open. The zero Options give an in-memory store with
// WorkMail's limits, the system clock and crypto/rand.
type Options struct {
	// Dir is the state directory. "" keeps everything in memory (lost on exit).
	// Otherwise Open creates it (mode 0700) when missing, loads and validates
	// every file in it, and every mutation is on disk before it returns.
	Dir string
	// Clock returns the current time; nil means time.Now. It dates rules and
	// roles, expires ClientTokens and issues impersonation tokens.
	Clock func() time.Time
	// Rand is the source of organization IDs, role IDs, key secrets and token
	// IDs; nil means crypto/rand.Reader. The store reads it under its own lock.
	Rand io.Reader
	// RuleLimit is the most access-control rules one organization may hold,
	// the default rule included; 0 means DefaultRuleLimit (10, as WorkMail).
	// This is the explicit way for an embedding application to raise it (A14).
	RuleLimit int
	// RoleLimit is the most impersonation roles one organization may hold; 0
	// means DefaultRoleLimit (20, B5).
	RoleLimit int
	// ReadOnly opens the store for reading only, and every mutation fails.
	// A state directory Dir is opened without its lock and nothing in it is
	// created, removed or written, so that it works on a read-only mount and
	// while another process holds the directory; Dir must exist, and without
	// keys.json the keys are random, for this process only. A PostgreSQL
	// database is neither migrated nor given keys (a writer must have
	// opened it once). ReadOnly has no effect on an in-memory store.
	ReadOnly bool
	// Postgres, when set, is the connection URL (postgres://… or a DSN, as
	// github.com/jackc/pgx/v5 parses it; search_path=SCHEMA selects a
	// schema) of a PostgreSQL database that holds the state, shared with
	// every other process that opens it (SEMANTICS G1–G4; docs/postgres.md).
	// Open creates or migrates the schema, and the store follows other
	// processes' changes until Close. Dir must then be "".
	Postgres string
}

// Store holds organizations and answers the WorkMail operations on them.
//
// Concurrency: every method is safe for concurrent use. Mutations are
// serialized by one mutex per store (over PostgreSQL they run concurrently
// and the database's revision check orders them: see mutateShared); each successful mutation publishes a new
// immutable Snapshot of the organization it touched through an atomic pointer,
// after its durable write. Reads (Snapshot, Evaluate, Get…, List…) never take
// the lock and always see one whole snapshot: never a half-applied change.
//
// A failed call changes nothing (SEMANTICS D1): every check, compilation and
// the durable write happen before anything is published. The one exception is
// an error wrapping ErrDurabilityUncertain (the new file is in place but the
// directory fsync failed): the change is then published too, so that memory
// agrees with the file.
//
// Cost: a mutation compiles the organization it touches (reusing what did not
// change: the directory, the policy, unchanged roles) and, with a state
// directory, writes that organization's file with two fsyncs; creating or
// deleting an organization also rebuilds the read index (O(organizations)).
// Listing organizations is O(n log n); everything else is O(size of the
// organization).
//
// Every WorkMail operation (and ImportOrganization) takes a
// context.Context: over PostgreSQL a mutation stops waiting for the database
// when ctx is done (a commit already sent may still land, as any commit
// whose connection fails); reads answer from the snapshots in memory and
// never block.
//
// The zero Store is not usable; build one with Open.
type Store struct {
	mu                   sync.Mutex               // serializes writers
	index                atomic.Pointer[orgTable] // live organizations; replaced on create/delete
	clock                func() time.Time
	rand                 io.Reader // locked
	ruleLimit, roleLimit int

	b backend // nil in memory

	sync syncState // a shared backend's change feed (postgres_feed.go)

	// Writer-only state, under mu.
	deleted      map[string]*record     // tombstones of deleted organizations
	createTokens map[string]tokenRecord // CreateOrganization ClientTokens → org ID in OrganizationId
	closed       bool

	keys     []impersonation.Key
	pageKey  []byte
	issuer   *impersonation.Issuer
	verifier *impersonation.Verifier
}

// slot holds the latest snapshot of one live organization.
type slot struct {
	snap atomic.Pointer[Snapshot]
}

// lockedReader serializes reads of a caller's io.Reader.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// Open opens the store described by opts: in memory when opts.Dir and
// opts.Postgres are "", the PostgreSQL database opts.Postgres (connecting,
// migrating the schema and loading every organization, validated as files
// are), else the state directory opts.Dir, which it creates when missing and loads
// otherwise. Loading validates every file fully (schema version, checksum,
// every field as the operations would, uniqueness of aliases and directories);
// a file that is empty, truncated, corrupt or from a newer schema is refused
// with a *FileError naming it, and nothing is written. The directory is
// locked against other processes until Close.
//
// Cost: reading and compiling every organization once.
func Open(opts Options) (*Store, error) {
	return OpenContext(context.Background(), opts)
}

// OpenContext is Open with a context that bounds its I/O: connecting to
// PostgreSQL, migrating the schema and loading every organization. The
// store's change feed outlives ctx (Close stops it).
func OpenContext(ctx context.Context, opts Options) (*Store, error) {
	s := &Store{
		clock:        opts.Clock,
		ruleLimit:    opts.RuleLimit,
		roleLimit:    opts.RoleLimit,
		deleted:      map[string]*record{},
		createTokens: map[string]tokenRecord{},
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	s.rand = &lockedReader{r: r}
	if s.ruleLimit <= 0 {
		s.ruleLimit = DefaultRuleLimit
	}
	if s.roleLimit <= 0 {
		s.roleLimit = DefaultRoleLimit
	}
	idx := map[string]*slot{}
	var b backend
	switch {
	case opts.Postgres != "" && opts.Dir != "":
		return nil, errors.New("org: Options.Dir and Options.Postgres are exclusive")
	case opts.Postgres != "":
		pb, err := openPostgres(ctx, opts.Postgres, opts.ReadOnly)
		if err != nil {
			return nil, err
		}
		b = pb
	case opts.Dir != "" && opts.ReadOnly:
		d, err := openDiskReadOnly(opts.Dir)
		if err != nil {
			return nil, err
		}
		b = d
	case opts.Dir != "":
		d, err := openDisk(opts.Dir)
		if err != nil {
			return nil, err
		}
		b = d
	}
	if b == nil {
		k, err := s.newKeys()
		if err != nil {
			return nil, err
		}
		s.keys, s.pageKey = k.keys, k.pageKey
	} else {
		if err := b.load(ctx, s, idx); err != nil {
			b.close()
			return nil, err
		}
		s.b = b
	}
	s.index.Store(newOrgTable(idx))
	if err := s.initTokens(); err != nil {
		s.Close()
		return nil, err
	}
	if sb := s.sharedBackend(); sb != nil {
		sb.follow(s)
	}
	return s, nil
}

// Close releases the state directory's lock, or stops the change feed and
// closes the database connections. Afterwards every mutation fails; reads
// keep answering from the last snapshots. Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	// Without the lock: a shared backend's feed may be waiting for it to
	// publish a change, and closing waits for the feed to stop.
	if s.b != nil {
		return s.b.close()
	}
	return nil
}

func (s *Store) initTokens() error {
	ring, err := impersonation.NewKeyRing(s.keys[0], s.keys[1:]...)
	if err != nil {
		return err
	}
	exists := func(orgID, roleID string) bool {
		snap := s.Snapshot(orgID)
		return snap != nil && snap.roles[roleID] != nil
	}
	s.issuer, err = impersonation.NewIssuer(ring, impersonation.IssuerOptions{Clock: s.clock, Rand: s.rand, RoleExists: exists})
	if err != nil {
		return err
	}
	s.verifier, err = impersonation.NewVerifier(ring, impersonation.VerifierOptions{Clock: s.clock, RoleExists: exists})
	return err
}

// now is the clock as a Timestamp.
func (s *Store) now() policy.Timestamp { return policy.TimestampOf(s.clock()) }

// Snapshot returns the latest snapshot of the live organization orgID, or nil
// when there is none. It costs one atomic load, one map lookup and one more
// atomic load; it never locks or allocates.
func (s *Store) Snapshot(orgID string) *Snapshot {
	sl := s.index.Load().get(orgID)
	if sl == nil {
		return nil
	}
	return sl.snap.Load() // nil once the organization is deleted
}

// Handle is a reference to one organization that follows its snapshots: the
// cheapest way to evaluate requests with hot reload. Looking the
// organization up happens once, in Store.Handle; each evaluation then costs
// one atomic load on top of the compiled evaluator. A Handle is safe for
// concurrent use; once its organization is deleted it answers
// OrganizationNotFoundException.
type Handle struct {
	s  *Store
	sl *slot
	id string
}

// Handle returns a Handle of the live organization orgID; an unknown
// organization is OrganizationNotFoundException (ValidationException when
// orgID is malformed).
func (s *Store) Handle(orgID string) (*Handle, error) {
	sl := s.index.Load().get(orgID)
	if sl == nil || sl.snap.Load() == nil {
		return nil, s.notFound(orgID)
	}
	return &Handle{s: s, sl: sl, id: orgID}, nil
}

// Snapshot returns the organization's latest snapshot, or nil once it is
// deleted. It costs one atomic load.
func (h *Handle) Snapshot() *Snapshot { return h.sl.snap.Load() }

// Evaluate is Store.Evaluate without the lookup: one atomic load, then
// accessctl.Policy.Evaluate on the latest snapshot, with the same role check
// (an ImpersonationRoleID that is not a role of the organization is
// ResourceNotFoundException). It does not allocate when matched has room.
func (h *Handle) Evaluate(r accessctl.Request, matched []string) (policy.Effect, []string, uint64, error) {
	snap := h.sl.snap.Load()
	if snap == nil {
		return policy.Deny, matched, 0, h.s.notFound(h.id)
	}
	// snap.evaluate, inlined by hand: one call and one copy of r fewer.
	eff, m, err := snap.policy.Evaluate(r, matched)
	if r.ImpersonationRoleID != "" && err == nil && snap.roles[r.ImpersonationRoleID] == nil {
		return policy.Deny, matched, snap.rev, roleNotFound(r.ImpersonationRoleID)
	}
	return eff, m, snap.rev, err
}

// Evaluate is the fast path of GetAccessControlEffect through the store: it
// evaluates r against the latest snapshot of organization orgID as
// accessctl.Policy.Evaluate does (names of the deciding rules appended to
// matched) and also returns the revision of the snapshot it used. It does not
// lock and does not allocate when matched has room; an unknown organization
// is OrganizationNotFoundException (ValidationException when orgID is
// malformed, C4). A valid request whose ImpersonationRoleID is not a role of
// the organization (never created, or deleted) is ResourceNotFoundException
// (path ImpersonationRoleId) with Deny and matched unchanged: a rule that
// still names a deleted role never matches it (B6).
func (s *Store) Evaluate(orgID string, r accessctl.Request, matched []string) (policy.Effect, []string, uint64, error) {
	sl := s.index.Load().get(orgID)
	if sl == nil {
		return policy.Deny, matched, 0, s.notFound(orgID)
	}
	snap := sl.snap.Load()
	if snap == nil { // deleted since the index was loaded
		return policy.Deny, matched, 0, s.notFound(orgID)
	}
	// snap.evaluate, inlined by hand: one call and one copy of r fewer.
	eff, m, err := snap.policy.Evaluate(r, matched)
	if r.ImpersonationRoleID != "" && err == nil && snap.roles[r.ImpersonationRoleID] == nil {
		return policy.Deny, matched, snap.rev, roleNotFound(r.ImpersonationRoleID)
	}
	return eff, m, snap.rev, err
}

// evaluate answers r against the snapshot: accessctl.Policy.Evaluate, then,
// for a valid request naming an impersonation role that is not a role of the
// organization (never created, or deleted), ResourceNotFoundException with
// path ImpersonationRoleId (SEMANTICS B6: rules that still name a deleted
// role stay, but its ID never matches; the model lists
// ResourceNotFoundException for GetAccessControlEffect). Validation errors of
// the request come first. The role check is one map lookup, only for role
// requests; the error is built only on the error path, so a valid request
// does not allocate.
func (s *Snapshot) evaluate(r accessctl.Request, matched []string) (policy.Effect, []string, uint64, error) {
	eff, m, err := s.policy.Evaluate(r, matched)
	if err == nil && r.ImpersonationRoleID != "" && s.roles[r.ImpersonationRoleID] == nil {
		return policy.Deny, matched, s.rev, roleNotFound(r.ImpersonationRoleID)
	}
	return eff, m, s.rev, err
}

// VerifyToken checks an impersonation token of organization orgID offline, as
// impersonation.Verifier.Verify does, against the store's keys and its live
// roles (a token of a deleted role does not verify, B8).
func (s *Store) VerifyToken(token, orgID string) (impersonation.TokenClaims, error) {
	return s.verifier.Verify(token, orgID)
}

// EWSAuthorizer builds the impersonated-EWS authorizer (SEMANTICS B9) of the
// latest snapshot of organization orgID, with the store's keys and clock.
// Build a new one after a mutation to see it.
func (s *Store) EWSAuthorizer(orgID string) (*impersonation.EWSAuthorizer, error) {
	snap, err := s.live(orgID)
	if err != nil {
		return nil, err
	}
	ring, err := impersonation.NewKeyRing(s.keys[0], s.keys[1:]...)
	if err != nil {
		return nil, err
	}
	roles := make([]*impersonation.Evaluator, 0, len(snap.roles))
	for _, r := range snap.rec.Roles {
		roles = append(roles, snap.roles[r.ImpersonationRoleId])
	}
	return impersonation.NewEWSAuthorizer(impersonation.EWSConfig{
		OrganizationID: orgID, AccessControl: snap.policy, Roles: roles, Keys: ring, Clock: s.clock,
	})
}

// Snapshot is one immutable, compiled state of one organization: its rules
// compiled into an accessctl.Policy, its roles compiled into
// impersonation.Evaluators, its directory, and the revision number that the
// mutation which produced it got. Every successful mutation of an organization
// publishes a new Snapshot with the next revision; a Snapshot never changes,
// so it is safe for concurrent use and can be held as long as needed.
type Snapshot struct {
	rec    *record
	rev    uint64
	policy *accessctl.Policy
	roles  map[string]*impersonation.Evaluator
	dir    *policy.MemDirectory
}

// Revision returns the snapshot's revision: 1 for a new organization, one more
// for every successful mutation since. It survives restarts.
func (s *Snapshot) Revision() uint64 { return s.rev }

// OrganizationId returns the organization's ID.
func (s *Snapshot) OrganizationId() string { return s.rec.OrganizationId }

// Alias returns the organization's alias.
func (s *Snapshot) Alias() string { return s.rec.Alias }

// Policy returns the compiled access-control rules (never nil). Evaluating it
// directly is the cheapest way to answer GetAccessControlEffect, but the
// Policy does not know the organization's roles: a request naming a deleted
// role still matches the rules that name it. Check Snapshot.Role first, or use
// Store.Evaluate or Handle.Evaluate, which refuse such a request with
// ResourceNotFoundException (B6).
func (s *Snapshot) Policy() *accessctl.Policy { return s.policy }

// Role returns the compiled role with the given ID, or nil (a nil
// *impersonation.Evaluator answers ResourceNotFoundException).
func (s *Snapshot) Role(id string) *impersonation.Evaluator { return s.roles[id] }

// Roles returns copies of the organization's roles, in ascending byte order
// of Name, then ID (B7).
func (s *Snapshot) Roles() []impersonation.Role {
	out := make([]impersonation.Role, len(s.rec.Roles))
	for i, r := range s.rec.Roles {
		out[i] = r.Clone()
	}
	return out
}

// Rules returns copies of the organization's rules, in ascending byte order of
// Name (A16).
func (s *Snapshot) Rules() []accessctl.Rule { return s.policy.Rules() }

// Directory returns the organization's user directory (never nil; empty until
// users are imported or put).
func (s *Snapshot) Directory() *policy.MemDirectory { return s.dir }

// Users returns copies of the organization's users, in ascending byte order of Id.
func (s *Snapshot) Users() []User {
	out := make([]User, len(s.rec.Users))
	for i, u := range s.rec.Users {
		out[i] = u.clone()
	}
	return out
}

// build compiles rec into a snapshot. prev, when not nil, is the snapshot rec
// was derived from; what did not change is reused (the directory when the
// users are the same slice, the policy when the rules are too, and the
// evaluators of roles that are the same values).
func build(rec *record, prev *Snapshot) (*Snapshot, error) {
	snap := &Snapshot{rec: rec, rev: rec.Revision}
	sameUsers := prev != nil && sameSlice(prev.rec.Users, rec.Users)
	if sameUsers {
		snap.dir = prev.dir
	} else {
		users := make([]policy.User, len(rec.Users))
		for i, u := range rec.Users {
			users[i] = u.policyUser()
		}
		d, err := policy.NewDirectory(users)
		if err != nil {
			return nil, err
		}
		snap.dir = d
	}
	if sameUsers && sameSlice(prev.rec.Rules, rec.Rules) {
		snap.policy = prev.policy
	} else {
		p, err := accessctl.Compile(rec.Rules, accessctl.Options{Directory: snap.dir})
		if err != nil {
			return nil, inUse(err, "access-control rules")
		}
		snap.policy = p
	}
	snap.roles = make(map[string]*impersonation.Evaluator, len(rec.Roles))
	var old map[string]*impersonation.Evaluator
	if sameUsers {
		old = prev.roles
	}
	for i := range rec.Roles {
		r := &rec.Roles[i]
		if ev := old[r.ImpersonationRoleId]; ev != nil && sameRole(prev.roleIndex(r.ImpersonationRoleId), r) {
			snap.roles[r.ImpersonationRoleId] = ev
			continue
		}
		ev, err := impersonation.Compile(*r, snap.dir)
		if err != nil {
			return nil, inUse(err, fmt.Sprintf("impersonation role %q", r.ImpersonationRoleId))
		}
		snap.roles[r.ImpersonationRoleId] = ev
	}
	return snap, nil
}

// roleIndex returns the stored role with the given ID, or nil.
func (s *Snapshot) roleIndex(id string) *impersonation.Role {
	for i := range s.rec.Roles {
		if s.rec.Roles[i].ImpersonationRoleId == id {
			return &s.rec.Roles[i]
		}
	}
	return nil
}

// sameRole reports whether two stored roles are the same version: roles are
// copy-on-write, so an unchanged role shares its Rules slice.
func sameRole(a, b *impersonation.Role) bool {
	return a != nil && a.ImpersonationRoleId == b.ImpersonationRoleId && a.Name == b.Name && a.Type == b.Type &&
		a.Description == b.Description && a.DateModified == b.DateModified && sameSlice(a.Rules, b.Rules)
}

func sameSlice[T any](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

// inUse rewrites the errors of recompiling stored rules or roles after a
// directory change: they are about the stored state, not the request, so the
// path moves into the message.
func inUse(err error, what string) error {
	var out policy.ErrorList
	for _, e := range policy.Errors(err) {
		msg := e.Message
		if e.Path != "" {
			msg = e.Path + ": " + msg
		}
		out = append(out, policy.Errorf(e.Code, "", fmt.Sprintf("%s of the organization: %s (rules and roles may only name users of the directory)", what, msg)))
	}
	return out.Err()
}

// live returns the latest snapshot of a live organization, or the error of
// SEMANTICS C4.
func (s *Store) live(orgID string) (*Snapshot, error) {
	if err := checkOrgID(orgID); err != nil {
		return nil, err
	}
	if snap := s.Snapshot(orgID); snap != nil {
		return snap, nil
	}
	return nil, s.notFound(orgID)
}

func (s *Store) notFound(orgID string) error {
	if err := checkOrgID(orgID); err != nil {
		return err
	}
	return policy.Errorf(policy.OrganizationNotFoundException, "OrganizationId", fmt.Sprintf("organization %s not found", orgID))
}

func checkOrgID(id string) error {
	if id == "" {
		return policy.Errorf(policy.ValidationException, "OrganizationId", "OrganizationId is required")
	}
	if !policy.ValidOrganizationID(id) {
		return policy.Errorf(policy.ValidationException, "OrganizationId", fmt.Sprintf("invalid organization ID %q: want m- and 32 lowercase hexadecimal digits", truncate(id, 40)))
	}
	return nil
}

// truncate shortens s to its first n characters (runes) for an error message.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

var errClosed = errors.New("org: the store is closed")

// mutate runs one mutation of organization orgID under the writer lock: f
// gets the latest snapshot and returns the new record (nil: nothing to
// change). The record is compiled, written and published, in that order; any
// error leaves everything as it was, except ErrDurabilityUncertain (the new
// file is in place), after which the new snapshot is published too and the
// error returned.
func (s *Store) mutate(ctx context.Context, orgID string, f func(snap *Snapshot) (*record, error)) error {
	if err := checkOrgID(orgID); err != nil {
		return err
	}
	if sb := s.sharedBackend(); sb != nil {
		return s.mutateShared(ctx, sb, orgID, f)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	sl := s.index.Load().get(orgID)
	if sl == nil {
		return s.notFound(orgID)
	}
	prev := sl.snap.Load()
	rec, err := f(prev)
	if err != nil || rec == nil {
		return err
	}
	rec.Revision = prev.rec.Revision + 1
	snap, err := build(rec, prev)
	if err != nil {
		return err
	}
	if err := s.write(ctx, rec, prev.rec.Revision); err != nil {
		if errors.Is(err, ErrDurabilityUncertain) {
			sl.snap.Store(snap) // the new file is in place: memory follows it
		}
		return err
	}
	sl.snap.Store(snap)
	return nil
}

// write persists rec, which replaces revision prev (a no-op in memory).
func (s *Store) write(ctx context.Context, rec *record, prev uint64) error {
	if s.b == nil {
		return nil
	}
	return s.b.commit(ctx, rec, prev)
}

// randomHex returns n random bytes in lowercase hex.
func (s *Store) randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("org: random source: %w", err)
	}
	return b, nil
}

// sortRoles orders roles by Name (bytes), then ID (B7).
func sortRoles(roles []impersonation.Role) {
	sort.Slice(roles, func(i, j int) bool {
		if roles[i].Name != roles[j].Name {
			return roles[i].Name < roles[j].Name
		}
		return roles[i].ImpersonationRoleId < roles[j].ImpersonationRoleId
	})
}
