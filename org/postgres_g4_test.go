package org

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/policy"
)

// SEMANTICS G4: every snapshot a store answers from is exactly one
// committed revision. A writer commits 300 revisions, each replacing the
// rule "moving" with one whose Description is the revision the commit
// makes; a reader store, following the feed, checks every snapshot it can
// see while the writes land: the rule in it is the one its own revision
// wrote (content and revision never from two commits), and nothing else
// changed.
func TestSemanticsG4_SnapshotIsOneRevision(t *testing.T) {
	url := freshSchema(t, pgURL(t))
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	w, r := openPG(t, url, clk, 1), openPG(t, url, clk, 2)
	org := mustCreate(t, w, "g4")
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		for range 300 {
			next := w.Snapshot(org).Revision() + 1
			_, err := w.PutAccessControlRule(ctx, PutAccessControlRuleInput{OrganizationId: org, Name: "moving", Effect: policy.Deny,
				Description: strconv.FormatUint(next, 10), Actions: []string{"EWS"}})
			if err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	checked, distinct := 0, map[uint64]bool{}
	for {
		select {
		case err := <-done:
			mustOK(t, err)
			waitFor(t, 10*time.Second, "the reader's last revision", func() bool { return r.Snapshot(org).Revision() == w.Snapshot(org).Revision() })
			checkOneRevision(t, r.Snapshot(org))
			t.Logf("%d snapshots checked, %d distinct revisions", checked, len(distinct))
			return
		default:
		}
		snap := r.Snapshot(org)
		if snap == nil {
			continue
		}
		checkOneRevision(t, snap)
		checked++
		distinct[snap.Revision()] = true
	}
}

// checkOneRevision checks that snapshot's rules are those of its revision:
// "moving" (from revision 2 on) describes the revision that wrote it, which
// is the snapshot's own.
func checkOneRevision(t *testing.T, snap *Snapshot) {
	t.Helper()
	rev := snap.Revision()
	for _, rule := range snap.Rules() {
		if rule.Name == "moving" && rule.Description != strconv.FormatUint(rev, 10) {
			t.Fatalf("snapshot of revision %d holds the rule of revision %s", rev, rule.Description)
		}
	}
	if rev >= 2 && len(snap.Rules()) != 2 {
		t.Fatalf("snapshot of revision %d holds %d rules", rev, len(snap.Rules()))
	}
}
