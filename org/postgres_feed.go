package org

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The change feed of the PostgreSQL backend (SEMANTICS G3): one dedicated
// connection per store LISTENs on pgChannel; on every (re)connect the store
// listens first, then reads every organization newer than its own in one
// repeatable-read transaction, and only then reports itself fresh, so that no
// commit falls between the resync and the notifications. Each notification
// reloads just its organization. When the connection fails the store keeps
// answering from its snapshots, reports itself stale and reconnects with
// exponential backoff (feedBackoffMin doubling to feedBackoffMax, jittered).

const (
	feedBackoffMin = 25 * time.Millisecond
	feedBackoffMax = 2 * time.Second
	// feedPing is how long the feed waits for a notification before it
	// checks the connection (and, when it answers, records a sync).
	feedPing = time.Second
)

// SyncStatus is how current a store's snapshots are (SEMANTICS G3).
// The zero value is the status of an in-memory store.
type SyncStatus struct {
	// Shared reports a backend that other processes write (PostgreSQL).
	// Stores that are not shared are always fresh; the other fields are zero.
	Shared bool
	// Fresh reports that the store is connected to the change feed and has
	// resynchronized since it (re)connected: every change committed before
	// LastSync is in its snapshots.
	Fresh bool
	// Revision is the store-wide change number of the newest change this
	// store has applied or confirmed (every commit in the database takes the
	// next one).
	Revision uint64
	// LastSync is when the store last knew itself current: its resync, a
	// change applied from the feed or the feed's keepalive (every second).
	LastSync time.Time
	// Reconnects counts the feed's connections after the first.
	Reconnects int
	// Err is the feed's last error while it is not fresh.
	Err error
}

// syncState is a store's SyncStatus, updated by its feed.
type syncState struct {
	mu sync.Mutex
	st SyncStatus
}

func (y *syncState) init(change uint64, _ time.Time) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.st = SyncStatus{Shared: true, Revision: change, LastSync: time.Now()}
}

func (y *syncState) update(f func(st *SyncStatus)) {
	y.mu.Lock()
	defer y.mu.Unlock()
	f(&y.st)
}

// SyncStatus returns how current the store's snapshots are: always fresh for
// an in-memory or directory store; for a PostgreSQL store, whether its change
// feed is connected and resynchronized, the last change number it applied
// and when it last knew itself current. It takes one short lock.
func (s *Store) SyncStatus() SyncStatus {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	st := s.sync.st
	if !st.Shared {
		st.Fresh = true
	}
	return st
}

// follow starts the feed goroutine; close stops it.
func (p *pgBackend) follow(s *Store) {
	p.done = make(chan struct{})
	go p.run(s)
}

func (p *pgBackend) run(s *Store) {
	defer close(p.done)
	backoff := feedBackoffMin
	for first := true; ; first = false {
		if !first {
			s.sync.update(func(st *SyncStatus) { st.Reconnects++ })
		}
		fresh, err := p.session(s)
		if p.ctx.Err() != nil {
			return
		}
		s.sync.update(func(st *SyncStatus) { st.Fresh, st.Err = false, err })
		if fresh {
			backoff = feedBackoffMin
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(wait):
		case <-p.ctx.Done():
			return
		}
		backoff = min(2*backoff, feedBackoffMax)
	}
}

// session connects, listens, resynchronizes and applies notifications until
// the connection fails; fresh reports that it got as far as fresh.
func (p *pgBackend) session(s *Store) (fresh bool, err error) {
	ctx := p.ctx
	if f := p.feedFault.Load(); f != nil {
		if err := (*f)(); err != nil {
			return false, fmt.Errorf("org: postgres feed: %w", err)
		}
	}
	cc := p.cfg.ConnConfig.Copy()
	cc.RuntimeParams["application_name"] = "wmpolicy feed"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return false, fmt.Errorf("org: postgres feed: %w", err)
	}
	defer conn.Close(context.Background())
	p.feedPID.Store(conn.PgConn().PID())
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return false, fmt.Errorf("org: postgres feed: %w", err)
	}
	recs, snaps, change, err := p.readAll(ctx, conn, func(id string, rev uint64) bool {
		if sn := s.Snapshot(id); sn != nil {
			return sn.rev >= rev
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.deleted[id] != nil
	})
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	for i, rec := range recs {
		s.applyLocked(rec, snaps[i])
	}
	s.mu.Unlock()
	s.sync.update(func(st *SyncStatus) {
		st.Fresh, st.Err, st.LastSync = true, nil, time.Now()
		st.Revision = max(st.Revision, change)
	})
	for {
		wctx, cancel := context.WithTimeout(ctx, feedPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || (err != nil && wctx.Err() != nil) {
			if err := conn.Ping(ctx); err != nil {
				return true, fmt.Errorf("org: postgres feed: %w", err)
			}
			s.sync.update(func(st *SyncStatus) { st.LastSync = time.Now() })
			continue
		}
		if err != nil {
			return true, fmt.Errorf("org: postgres feed: %w", err)
		}
		schema, id, rev, change, ok := parseNotification(n.Payload)
		if !ok || schema != p.schema {
			continue
		}
		if sn := s.Snapshot(id); sn == nil || sn.rev < rev {
			rec, snap, err := p.loadOrgFrom(ctx, conn, id)
			if err != nil {
				return true, err
			}
			if rec != nil {
				s.applyRecord(rec, snap)
			}
		}
		s.sync.update(func(st *SyncStatus) {
			st.LastSync = time.Now()
			st.Revision = max(st.Revision, change)
		})
	}
}
