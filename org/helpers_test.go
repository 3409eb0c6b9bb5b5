package org

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// seeded is a deterministic random source.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeeded(seed byte) seeded {
	var k [32]byte
	k[0] = seed
	return seeded{rand.NewChaCha8(k)}
}

// testStore opens a store with a fake clock at 2026-01-02 03:04:05 UTC and a
// deterministic random source, in memory when dir is "" (over a fresh
// PostgreSQL schema instead when TestPostgresSuite runs the tests: pgMode).
func testStore(t testing.TB, dir string) (*Store, *fakeClock) {
	t.Helper()
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var pg string
	if dir == "" {
		pg = pgStoreURL(t)
	}
	s, err := Open(Options{Dir: dir, Postgres: pg, Clock: clk.Now, Rand: newSeeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk
}

func mustCreate(t fataler, s *Store, alias string) string {
	t.Helper()
	out, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: alias})
	if err != nil {
		t.Fatal(err)
	}
	return out.OrganizationId
}

func wantCode(t fataler, err error, code policy.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	if policy.CodeOf(err) != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
	var pe *policy.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err %v is not a *policy.Error", err)
	}
}

func mustOK(t fataler, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var (
	alice = User{Id: "S-1-1-11-1111111111-2222222222-3333333333-0001", Email: "alice@example.com", Name: "alice", State: "ENABLED"}
	bob   = User{Id: "S-1-1-11-1111111111-2222222222-3333333333-0002", Email: "bob@example.com", Aliases: []string{"robert@example.com"}, Name: "bob", State: "ENABLED"}
	carol = User{Id: "S-1-1-11-1111111111-2222222222-3333333333-0003", Email: "carol@example.com", Name: "carol", State: "DISABLED"}
)

func addUsers(t fataler, s *Store, org string, us ...User) {
	t.Helper()
	for _, u := range us {
		if _, err := s.PutUser(context.Background(), PutUserInput{OrganizationId: org, User: u}); err != nil {
			t.Fatal(err)
		}
	}
}

func rulesOf(t fataler, s *Store, org string) []accessctl.Rule {
	t.Helper()
	out, err := s.ListAccessControlRules(context.Background(), ListAccessControlRulesInput{OrganizationId: org})
	if err != nil {
		t.Fatal(err)
	}
	return out.Rules
}

// allRoles lists every role of org, page roles a page (0: the default).
func allRoles(t fataler, s *Store, org string, page int32) []impersonation.RoleSummary {
	t.Helper()
	var all []impersonation.RoleSummary
	tok := ""
	var mr *int32 // nil: MaxResults absent (the default page)
	if page != 0 {
		mr = &page
	}
	for {
		out, err := s.ListImpersonationRoles(context.Background(), ListImpersonationRolesInput{OrganizationId: org, NextToken: tok, MaxResults: mr})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Roles...)
		if out.NextToken == "" {
			return all
		}
		tok = out.NextToken
	}
}

// fataler is what the helpers need of a *testing.T or *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func ptr[T any](v T) *T { return &v }

func simpleRole(org, name string, rules ...impersonation.Rule) CreateImpersonationRoleInput {
	return CreateImpersonationRoleInput{OrganizationId: org, Name: name, Type: impersonation.FullAccess, Rules: rules}
}
