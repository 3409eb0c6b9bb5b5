package org

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/wmpolicy/wmpolicy/policy"
)

// backend is where a Store keeps its state: the boundary between the
// operations (validation, compilation, snapshots, all in store.go and the
// operation files) and storage. Every backend stores the same things: one
// record per organization (live or a tombstone), the token keys and page
// secret, and the CreateOrganization ClientTokens (which live in the records'
// CreateToken; the roles' ClientTokens live in RoleTokens).
//
// Two kinds exist. An exclusive backend (the state directory, locked by
// one process) is the only writer: the Store's in-memory state is the truth
// and the backend just persists it. A shared backend (PostgreSQL) has other
// writers: it checks every commit against the revision it replaces, enforces
// alias and directory uniqueness itself, and feeds other processes' changes
// back (sharedBackend).
type backend interface {
	// load fills a new Store: s.keys, s.pageKey, s.deleted, s.createTokens
	// and idx (the live organizations), validating everything (a *FileError
	// names what is refused).
	load(ctx context.Context, s *Store, idx map[string]*slot) error
	// commit stores rec, which replaces revision prev of its organization
	// (prev is 0 when the organization is new). A shared backend refuses a
	// commit whose prev is no longer the stored revision with errConflict,
	// changing nothing. An error wrapping ErrDurabilityUncertain means rec
	// is stored but perhaps not durably.
	commit(ctx context.Context, rec *record, prev uint64) error
	// close releases what the backend holds (locks, connections).
	close() error
}

// sharedBackend is a backend that other processes write too (SEMANTICS G1).
type sharedBackend interface {
	backend
	// loadOrg returns the stored record of organization id, validated and
	// compiled (snap is nil for a tombstone); rec is nil when there is none.
	loadOrg(ctx context.Context, id string) (rec *record, snap *Snapshot, err error)
	// revision returns the stored revision of organization id (0: none).
	revision(ctx context.Context, id string) (uint64, error)
	// createOrg stores the new organization rec (Revision 1) atomically with
	// the checks of CreateOrganization that span organizations, in C1's
	// order: when rec.CreateToken is set and a record of that ClientToken
	// younger than ClientTokenLifetime (measured at now) exists, it returns
	// that record and stores nothing; otherwise an alias (case-folded) or a
	// DirectoryId of a live organization is NameAvailabilityException or
	// DirectoryInUseException. An ID that exists is errConflict.
	createOrg(ctx context.Context, rec *record, now policy.Timestamp) (*tokenRecord, error)
	// follow starts delivering other processes' changes to s (s.applyRecord,
	// s.resync) until close; it reports its state through s.sync.
	follow(s *Store)
}

// errConflict is a shared backend's answer to a commit whose expected
// revision is no longer the stored one: another process committed first.
// The Store reloads the organization and runs the mutation again.
var errConflict = errors.New("org: the organization changed in another process")

// maxAttempts bounds how often a mutation is retried after errConflict.
const maxAttempts = 64

// addLoaded adds one loaded record to a Store being opened: the tombstones to
// s.deleted, the live ones to idx, the CreateOrganization ClientToken to
// s.createTokens. The caller checked uniqueness (or its database does).
func (s *Store) addLoaded(idx map[string]*slot, rec *record, snap *Snapshot) {
	if rec.CreateToken != nil {
		if t, ok := s.createTokens[rec.CreateToken.ClientToken]; !ok || t.Date < rec.CreateToken.Date {
			s.createTokens[rec.CreateToken.ClientToken] = *rec.CreateToken
		}
	}
	if rec.State == StateDeleted {
		s.deleted[rec.OrganizationId] = rec
		return
	}
	sl := &slot{}
	sl.snap.Store(snap)
	idx[rec.OrganizationId] = sl
}

// applyRecord publishes a record another process committed (or that this
// process committed through a shared backend), unless the store already
// holds that revision or a later one: a live record replaces the
// organization's snapshot (or adds the organization), a tombstone removes it.
// snap is rec compiled (nil for a tombstone). It takes the writer lock.
func (s *Store) applyRecord(rec *record, snap *Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyLocked(rec, snap)
}

func (s *Store) applyLocked(rec *record, snap *Snapshot) {
	id := rec.OrganizationId
	if rec.CreateToken != nil {
		if t, ok := s.createTokens[rec.CreateToken.ClientToken]; !ok || t.Date < rec.CreateToken.Date {
			s.createTokens[rec.CreateToken.ClientToken] = *rec.CreateToken
		}
	}
	if d := s.deleted[id]; d != nil {
		return // a tombstone is final
	}
	tab := s.index.Load()
	sl := tab.get(id)
	if sl != nil {
		if cur := sl.snap.Load(); cur != nil && cur.rev >= rec.Revision {
			return
		}
	}
	if rec.State == StateDeleted {
		s.deleted[id] = rec
		if sl == nil {
			return
		}
		nidx := make(map[string]*slot, len(tab.byID))
		for k, v := range tab.byID {
			if k != id {
				nidx[k] = v
			}
		}
		s.index.Store(newOrgTable(nidx))
		sl.snap.Store(nil)
		return
	}
	if sl != nil {
		sl.snap.Store(snap)
		return
	}
	nidx := make(map[string]*slot, len(tab.byID)+1)
	for k, v := range tab.byID {
		nidx[k] = v
	}
	sl = &slot{}
	sl.snap.Store(snap)
	nidx[id] = sl
	s.index.Store(newOrgTable(nidx))
}

// refresh reloads organization id from the shared backend and publishes it.
func (s *Store) refresh(ctx context.Context, sb sharedBackend, id string) error {
	rec, snap, err := sb.loadOrg(ctx, id)
	if err != nil || rec == nil {
		return err
	}
	s.applyRecord(rec, snap)
	return nil
}

// mutateShared is mutate over a shared backend: optimistic, without the
// writer lock across the network round trip. f runs on the latest snapshot
// this process has; the commit names the revision f started from, and when
// another process committed first (errConflict) the organization is reloaded
// and f runs again on the new revision. An answer that changes nothing (an
// error of f, or no record) is returned only once the stored revision is
// confirmed to be the one f saw, so that every answer is one a serial
// application of the committed writes gives (G1).
func (s *Store) mutateShared(ctx context.Context, sb sharedBackend, orgID string, f func(snap *Snapshot) (*record, error)) error {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if s.isClosed() {
			return errClosed
		}
		prev := s.Snapshot(orgID)
		if prev == nil {
			// Unknown here: perhaps created by another process a moment ago.
			if err := s.refresh(ctx, sb, orgID); err != nil {
				return err
			}
			if prev = s.Snapshot(orgID); prev == nil {
				return s.notFound(orgID)
			}
		}
		rec, err := f(prev)
		if err != nil || rec == nil {
			cur, cerr := sb.revision(ctx, orgID)
			if cerr != nil {
				return cerr
			}
			if cur == prev.rev {
				return err
			}
			if err := s.refresh(ctx, sb, orgID); err != nil {
				return err
			}
			continue
		}
		rec.Revision = prev.rec.Revision + 1
		snap, err := build(rec, prev)
		if err != nil {
			return err
		}
		err = sb.commit(ctx, rec, prev.rec.Revision)
		if errors.Is(err, errConflict) {
			if err := s.refresh(ctx, sb, orgID); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		s.applyRecord(rec, snap)
		return nil
	}
	return fmt.Errorf("org: organization %s: %d attempts lost to concurrent writers", orgID, maxAttempts)
}

// shared returns the store's shared backend, or nil.
func (s *Store) sharedBackend() sharedBackend {
	sb, _ := s.b.(sharedBackend)
	return sb
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// createShared is CreateOrganization over a shared backend: the ClientToken,
// alias and directory checks are the database's, in one transaction with the
// insert, so that two processes never create two organizations with one
// alias, directory or ClientToken (G1, C1).
func (s *Store) createShared(ctx context.Context, sb sharedBackend, in CreateOrganizationInput) (CreateOrganizationOutput, error) {
	now := s.now()
	var hash string
	if in.ClientToken != "" {
		p := in
		p.ClientToken = ""
		hash = paramHash(p)
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if s.isClosed() {
			return CreateOrganizationOutput{}, errClosed
		}
		b, err := s.randomBytes(16)
		if err != nil {
			return CreateOrganizationOutput{}, err
		}
		id := "m-" + hex.EncodeToString(b)
		rec := newOrgRecord(in, id, hash, now)
		snap, err := build(rec, nil)
		if err != nil {
			return CreateOrganizationOutput{}, err
		}
		t, err := sb.createOrg(ctx, rec, now)
		if errors.Is(err, errConflict) {
			continue // the random ID exists: draw another
		}
		if err != nil {
			return CreateOrganizationOutput{}, err
		}
		if t != nil {
			if t.Hash != hash {
				return CreateOrganizationOutput{}, policy.Errorf(policy.InvalidParameterException, "ClientToken",
					"the ClientToken was used with different parameters within the last 24 hours")
			}
			if s.Snapshot(t.Id) == nil {
				if err := s.refresh(ctx, sb, t.Id); err != nil {
					return CreateOrganizationOutput{}, err
				}
			}
			return CreateOrganizationOutput{OrganizationId: t.Id}, nil
		}
		s.applyRecord(rec, snap)
		return CreateOrganizationOutput{OrganizationId: id}, nil
	}
	return CreateOrganizationOutput{}, fmt.Errorf("org: %d organization IDs drawn were all taken", maxAttempts)
}

// deleteShared is DeleteOrganization over a shared backend (after the
// input's checks): the tombstone is committed against the revision it
// replaces, as every mutation.
func (s *Store) deleteShared(ctx context.Context, sb sharedBackend, in DeleteOrganizationInput) error {
	id := in.OrganizationId
	deleted := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.deleted[id] != nil
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if s.isClosed() {
			return errClosed
		}
		if deleted() {
			return nil
		}
		prev := s.Snapshot(id)
		if prev == nil {
			if err := s.refresh(ctx, sb, id); err != nil {
				return err
			}
			if deleted() {
				return nil
			}
			if prev = s.Snapshot(id); prev == nil {
				return s.notFound(id)
			}
		}
		if err := enabledUserError(prev.rec, in.ForceDelete); err != nil {
			cur, cerr := sb.revision(ctx, id)
			if cerr != nil {
				return cerr
			}
			if cur == prev.rev {
				return err
			}
			if err := s.refresh(ctx, sb, id); err != nil {
				return err
			}
			continue
		}
		tomb := tombstone(prev.rec)
		err := sb.commit(ctx, tomb, prev.rec.Revision)
		if errors.Is(err, errConflict) {
			if err := s.refresh(ctx, sb, id); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		s.applyRecord(tomb, nil)
		return nil
	}
	return fmt.Errorf("org: organization %s: %d attempts lost to concurrent writers", id, maxAttempts)
}
