package org

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/reference"
	"github.com/wmpolicy/wmpolicy/policy"
	"github.com/wmpolicy/wmpolicy/policytest"
)

// historyEntry is the state of the organization at one revision.
type historyEntry struct {
	rules []accessctl.Rule
	roles map[string]impersonation.Role
}

// observation is one answer a reader got.
type observation struct {
	rev     uint64
	req     accessctl.Request
	eff     policy.Effect
	matched []string
	err     error
	roleID  string
	target  string
	rEff    policy.Effect
	rErr    error
}

// TestConcurrentReadersSeeWholeSnapshots runs readers evaluating in a tight
// loop while writers put and delete rules and roles; every answer must equal
// the reference's for a snapshot that actually existed (the revision the
// reader reports), never a mix.
func TestConcurrentReadersSeeWholeSnapshots(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "busy")
	users := make([]policy.UserJSON, len(policytest.UserIDs()))
	for i, id := range policytest.UserIDs() {
		users[i] = policy.UserJSON{Id: id, State: "ENABLED"}
	}
	_, err := s.ImportUsers(context.Background(), ImportUsersInput{OrganizationId: org, Users: users})
	mustOK(t, err)
	dir := s.Snapshot(org).Directory()

	var histMu sync.Mutex // serializes the test's writers so each revision is recorded
	history := map[uint64]historyEntry{}
	record := func() {
		snap := s.Snapshot(org)
		roles := map[string]impersonation.Role{}
		for _, r := range snap.Roles() {
			roles[r.ImpersonationRoleId] = r
		}
		history[snap.Revision()] = historyEntry{rules: snap.Rules(), roles: roles}
	}
	record()

	const writes = 60
	var done atomic.Bool
	var seen atomic.Uint64 // the latest revision a reader used
	var wg sync.WaitGroup
	writer := func(seed uint64) {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 1))
		for i := 0; i < writes; i++ {
			histMu.Lock()
			switch r.IntN(4) {
			case 0, 1:
				rule := accessctl.Rule{Name: fmt.Sprintf("r%d", r.IntN(6)), Effect: policy.Effect(1 + r.IntN(2))}
				for j := r.IntN(4); j > 0; j-- {
					rule.IpRanges = append(rule.IpRanges, fmt.Sprintf("10.%d.0.0/%d", r.IntN(4), 8+r.IntN(17)))
				}
				if r.IntN(2) == 0 {
					rule.NotUserIds = []string{policytest.UserIDs()[r.IntN(len(policytest.UserIDs()))]}
				}
				if r.IntN(2) == 0 {
					rule.Actions = []string{"EWS", "IMAP"}
				}
				_, err := s.PutAccessControlRule(context.Background(), PutRuleInput(org, rule))
				if err != nil && policy.CodeOf(err) != policy.LimitExceededException {
					t.Error(err)
				}
			case 2:
				_, err := s.DeleteAccessControlRule(context.Background(), DeleteAccessControlRuleInput{OrganizationId: org, Name: fmt.Sprintf("r%d", r.IntN(6))})
				mustOK(t, err)
			case 3:
				snap := s.Snapshot(org)
				roles := snap.Roles()
				if len(roles) > 0 && r.IntN(2) == 0 {
					_, err := s.UpdateImpersonationRole(context.Background(), UpdateImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: roles[0].ImpersonationRoleId,
						Name: roles[0].Name, Type: impersonation.ReadOnly,
						Rules: []impersonation.Rule{{ImpersonationRuleId: "x", Effect: policy.Effect(1 + r.IntN(2)),
							TargetUsers: []string{policytest.UserIDs()[r.IntN(len(policytest.UserIDs()))]}}}})
					mustOK(t, err)
				} else if len(roles) > 3 {
					_, err := s.DeleteImpersonationRole(context.Background(), DeleteImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: roles[r.IntN(len(roles))].ImpersonationRoleId})
					mustOK(t, err)
				} else {
					_, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, fmt.Sprintf("role-%d-%d", seed, i),
						impersonation.Rule{ImpersonationRuleId: "a", Effect: policy.Allow}))
					mustOK(t, err)
				}
			}
			record()
			rev := s.Snapshot(org).Revision()
			histMu.Unlock()
			// Let a reader see this revision before the next write (bounded).
			for deadline := time.Now().Add(5 * time.Millisecond); seen.Load() < rev && time.Now().Before(deadline); {
				runtime.Gosched()
			}
		}
	}
	var obs [][]observation
	var obsMu sync.Mutex
	reader := func(seed uint64) {
		r := rand.New(rand.NewPCG(seed, 2))
		var mine []observation
		// Keep a few answers of every revision seen, not only the first ones.
		var lastRev uint64
		perRev := 0
		keep := func(o observation) {
			if o.rev != lastRev {
				lastRev, perRev = o.rev, 0
			}
			if perRev < 8 {
				perRev++
				mine = append(mine, o)
			}
		}
		buf := make([]string, 0, 16)
		for !done.Load() {
			req := accessctl.Request{IP: netip.AddrFrom4([4]byte{10, byte(r.IntN(5)), byte(r.IntN(256)), 1}), Action: accessctl.Actions()[r.IntN(7)],
				UserID: policytest.UserIDs()[r.IntN(len(policytest.UserIDs()))]}
			eff, m, rev, err := s.Evaluate(org, req, buf[:0])
			if rev > seen.Load() {
				seen.Store(rev)
			}
			o := observation{rev: rev, req: req, eff: eff, matched: slices.Clone(m), err: err}
			// A whole snapshot: its role answer belongs to the same revision.
			snap := s.Snapshot(org)
			if roles := snap.rec.Roles; len(roles) > 0 {
				role := roles[r.IntN(len(roles))]
				o2 := observation{rev: snap.Revision(), roleID: role.ImpersonationRoleId, target: policytest.UserIDs()[r.IntN(len(policytest.UserIDs()))]}
				o2.rEff, o2.rErr = snap.Role(role.ImpersonationRoleId).Effect(o2.target)
				e2, m2, err2 := snap.Policy().Evaluate(req, nil)
				o2.req, o2.eff, o2.matched, o2.err = req, e2, m2, err2
				keep(o2)
			}
			keep(o)
		}
		obsMu.Lock()
		obs = append(obs, mine)
		obsMu.Unlock()
	}
	var rwg sync.WaitGroup
	for i := 0; i < 2; i++ {
		rwg.Add(1)
		go func(i int) { reader(uint64(i)); rwg.Done() }(i)
	}
	wg.Add(2)
	go writer(1)
	go writer(2)
	wg.Wait()
	done.Store(true)
	rwg.Wait()

	checked, revs := 0, map[uint64]bool{}
	for _, list := range obs {
		for _, o := range list {
			h, ok := history[o.rev]
			if !ok {
				t.Fatalf("revision %d never existed", o.rev)
			}
			revs[o.rev] = true
			ref, rerr := reference.Evaluate(h.rules, o.req, dir)
			if policy.CodeOf(o.err) != policy.CodeOf(rerr) || o.eff != ref.Effect || !slices.Equal(o.matched, ref.MatchedRules) {
				t.Fatalf("revision %d, %+v: got %v %v %v; reference %v %v %v", o.rev, o.req, o.eff, o.matched, o.err, ref.Effect, ref.MatchedRules, rerr)
			}
			if o.roleID != "" {
				rr, rerr := reference.EvaluateImpersonation(h.roles[o.roleID], o.target, dir)
				if policy.CodeOf(o.rErr) != policy.CodeOf(rerr) || o.rEff != rr.Effect {
					t.Fatalf("revision %d, role %s, target %s: got %v %v; reference %v %v", o.rev, o.roleID, o.target, o.rEff, o.rErr, rr.Effect, rerr)
				}
			}
			checked++
		}
	}
	t.Logf("%d answers checked across %d of %d revisions", checked, len(revs), len(history))
}
