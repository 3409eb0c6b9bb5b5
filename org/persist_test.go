package org

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// populated builds a store in dir with one organization holding users, rules
// and roles, closes it, and returns the organization's ID.
func populated(t *testing.T, dir string) string {
	t.Helper()
	s, _ := testStore(t, dir)
	org := mustCreate(t, s, "acme")
	addUsers(t, s, org, alice, bob, carol)
	_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "office", Effect: policy.Deny,
		Description: "only the office", NotIpRanges: []string{"10.0.0.1/8"}, NotUserIds: []string{"alice@example.com"}})
	mustOK(t, err)
	_, err = s.CreateImpersonationRole(context.Background(), CreateImpersonationRoleInput{OrganizationId: org, Name: "archiver", Type: impersonation.ReadOnly,
		ClientToken: "tok", Rules: []impersonation.Rule{{ImpersonationRuleId: "r1", Effect: policy.Allow, NotTargetUsers: []string{"bob"}}}})
	mustOK(t, err)
	gone := mustCreate(t, s, "gone")
	_, err = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: gone, DeleteDirectory: ptr(true)})
	mustOK(t, err)
	mustOK(t, s.Close())
	return org
}

func TestReopenRestoresEverything(t *testing.T) {
	dir := t.TempDir()
	org := populated(t, dir)
	s, _ := testStore(t, dir)
	snap := s.Snapshot(org)
	if snap == nil || snap.Revision() != 6 {
		t.Fatalf("snapshot %v", snap)
	}
	if diff := cmp.Diff([]string{"default", "office"}, names(snap.Rules())); diff != "" {
		t.Fatal(diff)
	}
	if len(snap.Users()) != 3 || len(snap.Roles()) != 1 {
		t.Fatal("users or roles lost")
	}
	// The deleted organization stays deleted, idempotently.
	list, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
	if len(list.OrganizationSummaries) != 1 {
		t.Fatal(list)
	}
	// ClientTokens survive.
	out, err := s.CreateImpersonationRole(context.Background(), CreateImpersonationRoleInput{OrganizationId: org, Name: "archiver", Type: impersonation.ReadOnly,
		ClientToken: "tok", Rules: []impersonation.Rule{{ImpersonationRuleId: "r1", Effect: policy.Allow, NotTargetUsers: []string{"bob"}}}})
	mustOK(t, err)
	if out.ImpersonationRoleId != snap.Roles()[0].ImpersonationRoleId {
		t.Fatal("ClientToken forgotten")
	}
	// Tokens issued before a restart verify after it (the keys persist).
	tok, err := s.AssumeImpersonationRole(context.Background(), AssumeImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: out.ImpersonationRoleId})
	mustOK(t, err)
	s.Close()
	s2, _ := testStore(t, dir)
	if _, err := s2.VerifyToken(tok.Token, org); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, keysFileName))
	mustOK(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file mode %v", fi.Mode())
	}
}

func names(rules []accessctl.Rule) []string {
	var n []string
	for _, r := range rules {
		n = append(n, r.Name)
	}
	return n
}

func TestOpenLocksDirectory(t *testing.T) {
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v", err)
	}
	s.Close()
	s2, err := Open(Options{Dir: dir})
	mustOK(t, err)
	s2.Close()
	if _, err := s2.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "x"}); err == nil {
		t.Fatal("mutation after Close")
	}
}

// Refusals: every damaged file is refused with a *FileError naming it, and
// the file is left exactly as it was.
func TestOpenRefusesDamagedFiles(t *testing.T) {
	pristine := t.TempDir()
	org := populated(t, pristine)
	orgFile := filepath.Join(orgsDirName, org+".json")
	cases := []struct {
		name, file, problem string
		damage              func([]byte) []byte
	}{
		{"truncated", orgFile, "not valid JSON", func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated-at-end", orgFile, "not valid JSON", func(b []byte) []byte { return b[:len(b)-3] }},
		{"empty", orgFile, "empty", func([]byte) []byte { return nil }},
		{"flipped-byte-in-string", orgFile, "checksum mismatch", func(b []byte) []byte {
			i := bytes.Index(b, []byte("only the office"))
			b[i+1] ^= 0x20 // "oNly": still valid JSON
			return b
		}},
		{"flipped-byte-in-number", orgFile, "checksum mismatch", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"Revision": `)) + len(`"Revision": `)
			b[i] = '9'
			return b
		}},
		{"future-schema", orgFile, "newer than this program", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"Schema": 1`), []byte(`"Schema": 2`), 1)
		}},
		{"unknown-field", orgFile, "corrupt", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"Sha256"`), []byte(`"Extra": 1, "Sha256"`), 1)
		}},
		{"keys-truncated", keysFileName, "not valid JSON", func(b []byte) []byte { return b[:len(b)-10] }},
		{"keys-flipped", keysFileName, "checksum mismatch", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"Secret": "`)) + len(`"Secret": "`)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return b
		}},
		{"stray-file", filepath.Join(orgsDirName, "notes.txt"), "unexpected file", func([]byte) []byte { return []byte("hi") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, pristine, dir)
			path := filepath.Join(dir, c.file)
			old, _ := os.ReadFile(path)
			damaged := c.damage(append([]byte(nil), old...))
			mustOK(t, os.WriteFile(path, damaged, 0o600))
			_, err := Open(Options{Dir: dir})
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("Open: %v, want a *FileError", err)
			}
			if fe.File != path || !strings.Contains(err.Error(), c.problem) {
				t.Fatalf("Open: %v; want file %s and %q", err, path, c.problem)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, damaged) {
				t.Fatal("the refused file was changed")
			}
		})
	}
	t.Run("keys-mode", func(t *testing.T) {
		dir := t.TempDir()
		copyDir(t, pristine, dir)
		mustOK(t, os.Chmod(filepath.Join(dir, keysFileName), 0o644))
		_, err := Open(Options{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("Open: %v", err)
		}
	})
	t.Run("leftover-temp-file", func(t *testing.T) {
		dir := t.TempDir()
		copyDir(t, pristine, dir)
		tmp := filepath.Join(dir, orgsDirName, "."+org+".json.tmp-123")
		mustOK(t, os.WriteFile(tmp, []byte(`{"Sch`), 0o600))
		s, err := Open(Options{Dir: dir})
		mustOK(t, err)
		s.Close()
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Fatal("temporary file kept")
		}
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		if d.Name() == lockFileName {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	mustOK(t, err)
}

const crashEnv = "WMPOLICY_ORG_CRASH_CHILD"

// TestCrashChild is the child of TestCrashSafety; it does nothing unless the
// environment says so. It mutates the store for ever — puts a rule of up to
// 1024 ranges into one organization, creates organizations, deletes them —
// printing "begin …" before each call and "done …" after it.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("child process of TestCrashSafety")
	}
	dir, org, _ := strings.Cut(spec, "|")
	s, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	fail := func(err error) {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	for {
		list, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
		if err != nil {
			fail(err)
		}
		switch op := r.IntN(4); {
		case op == 0 && len(list.OrganizationSummaries) < 6:
			alias := fmt.Sprintf("c%d", r.Uint32())
			fmt.Println("begin create", alias)
			out, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: alias})
			if err != nil {
				fail(err)
			}
			fmt.Println("done create", out.OrganizationId)
		case op == 1 && len(list.OrganizationSummaries) > 1:
			victim := list.OrganizationSummaries[r.IntN(len(list.OrganizationSummaries))].OrganizationId
			if victim == org {
				continue
			}
			fmt.Println("begin delete", victim)
			if _, err := s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: victim, DeleteDirectory: ptr(true)}); err != nil {
				fail(err)
			}
			fmt.Println("done delete", victim)
		default:
			rev := s.Snapshot(org).Revision() + 1
			ranges := make([]string, r.IntN(1025))
			for i := range ranges {
				ranges[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
			}
			fmt.Println("begin put", rev)
			_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "crash", Effect: policy.Deny,
				Description: fmt.Sprintf("rev %d", rev), IpRanges: ranges})
			if err != nil {
				fail(err)
			}
			fmt.Println("done put", rev)
		}
	}
}

// crashState is what the parent knows of the child's state.
type crashState struct {
	rev  uint64          // revision of the organization the rules go to
	live map[string]bool // other live organizations
}

// TestCrashSafety kills a child process at random points while it writes,
// then reopens the state: it always loads, and holds the state before or after
// the interrupted mutation (its organization's revision and rule, the set of
// live organizations).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	org := mustCreate(t, s, "crash")
	mustOK(t, s.Close())
	known := crashState{rev: 1, live: map[string]bool{}}
	deadline := time.Now().Add(2 * time.Second)
	r := rand.New(rand.NewPCG(7, 7))
	iterations, interrupted := 0, 0
	for iterations < 40 && (iterations < 5 || time.Now().Before(deadline)) {
		iterations++
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir+"|"+org)
		out, err := cmd.StdoutPipe()
		mustOK(t, err)
		mustOK(t, cmd.Start())
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it run a random while after its first completed call.
		for l := range lines {
			if strings.HasPrefix(l, "done ") || !strings.HasPrefix(l, "begin ") {
				applyCrashLine(t, &known, l)
				break
			}
			applyCrashLine(t, &known, l)
		}
		time.Sleep(time.Duration(r.IntN(20000)) * time.Microsecond)
		cmd.Process.Kill()
		pending := ""
		for l := range lines {
			if strings.HasPrefix(l, "begin ") {
				pending = l
			} else {
				pending = ""
			}
			applyCrashLine(t, &known, l)
		}
		cmd.Wait()

		s, err := Open(Options{Dir: dir})
		if err != nil {
			t.Fatalf("iteration %d: reopen after kill: %v", iterations, err)
		}
		got := crashState{rev: s.Snapshot(org).Revision(), live: map[string]bool{}}
		list, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
		for _, o := range list.OrganizationSummaries {
			if o.OrganizationId != org {
				got.live[o.OrganizationId] = true
			}
		}
		rule, ok := s.Snapshot(org).Policy().Rule("crash")
		if got.rev > 1 && (!ok || rule.Description != fmt.Sprintf("rev %d", got.rev)) {
			t.Fatalf("iteration %d: revision %d holds rule %+v", iterations, got.rev, rule.Description)
		}
		if !crashAccepts(known, pending, got) {
			t.Fatalf("iteration %d: state %+v is neither before nor after %q from %+v", iterations, got, pending, known)
		}
		if !crashAccepts(known, "", got) {
			interrupted++ // the pending call had reached the disk
		}
		known = got
		s.Close()
	}
	t.Logf("%d kills, %d of them after an unreported call reached the disk", iterations, interrupted)
}

// applyCrashLine updates the known state with a "done …" line of the child.
func applyCrashLine(t *testing.T, k *crashState, l string) {
	f := strings.Fields(l)
	switch {
	case len(f) == 3 && f[0] == "done" && f[1] == "put":
		k.rev, _ = strconv.ParseUint(f[2], 10, 64)
	case len(f) == 3 && f[0] == "done" && f[1] == "create":
		k.live[f[2]] = true
	case len(f) == 3 && f[0] == "done" && f[1] == "delete":
		delete(k.live, f[2])
	case len(f) == 3 && f[0] == "begin":
	default:
		t.Fatalf("child: %q", l)
	}
}

// crashAccepts reports whether got is the known state, or the known state
// after the pending call.
func crashAccepts(known crashState, pending string, got crashState) bool {
	same := func(a, b map[string]bool) bool {
		if len(a) != len(b) {
			return false
		}
		for k := range a {
			if !b[k] {
				return false
			}
		}
		return true
	}
	if got.rev == known.rev && same(got.live, known.live) {
		return true
	}
	f := strings.Fields(pending)
	if len(f) != 3 {
		return false
	}
	switch f[1] {
	case "put":
		return got.rev == known.rev+1 && same(got.live, known.live)
	case "delete":
		after := map[string]bool{}
		for k := range known.live {
			if k != f[2] {
				after[k] = true
			}
		}
		return got.rev == known.rev && same(got.live, after)
	case "create":
		if got.rev != known.rev || len(got.live) != len(known.live)+1 {
			return false
		}
		for k := range known.live {
			if !got.live[k] {
				return false
			}
		}
		return true
	}
	return false
}

// SEMANTICS D1: a mutation whose durable write fails changes nothing, in
// memory or on disk.
func TestSemanticsD1_FailedWriteChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	org := mustCreate(t, s, "acme")
	file := filepath.Join(dir, orgsDirName, org+".json")
	before, _ := os.ReadFile(file)
	rev := s.Snapshot(org).Revision()
	good := s.b.(*disk).orgs
	s.b.(*disk).orgs = filepath.Join(dir, "missing") // every write now fails
	_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Deny})
	if err == nil {
		t.Fatal("write to a missing directory succeeded")
	}
	_, err = s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "other"})
	if err == nil {
		t.Fatal("write to a missing directory succeeded")
	}
	_, err = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: org, DeleteDirectory: ptr(true)})
	if err == nil {
		t.Fatal("write to a missing directory succeeded")
	}
	s.b.(*disk).orgs = good
	if s.Snapshot(org).Revision() != rev || len(rulesOf(t, s, org)) != 1 {
		t.Fatal("the failed mutation was published")
	}
	if list, _ := s.ListOrganizations(context.Background(), ListOrganizationsInput{}); len(list.OrganizationSummaries) != 1 {
		t.Fatal("the failed create or delete was published")
	}
	after, _ := os.ReadFile(file)
	if !bytes.Equal(before, after) {
		t.Fatal("the file changed")
	}
	// The same alias is still free: the failed create left no trace.
	mustCreate(t, s, "other")
}

// A role created with Rules absent and replayed with Rules [] is the same
// request (B5).
func TestSemanticsB5_ClientTokenEmptyRules(t *testing.T) {
	s, _ := testStore(t, "")
	org := mustCreate(t, s, "acme")
	in := simpleRole(org, "r")
	in.ClientToken = "t"
	a, err := s.CreateImpersonationRole(context.Background(), in)
	mustOK(t, err)
	in.Rules = []impersonation.Rule{}
	b, err := s.CreateImpersonationRole(context.Background(), in)
	mustOK(t, err)
	if a != b {
		t.Fatal("replay with [] created another role")
	}
}

// Every single-bit flip anywhere in a state file is refused: in the body by
// the checksum (even inside a string, where the JSON stays valid), in the
// envelope by strict decoding, the schema check or the checksum.
func TestOpenRefusesEveryBitFlip(t *testing.T) {
	dir := t.TempDir()
	org := populated(t, dir)
	path := filepath.Join(dir, orgsDirName, org+".json")
	data, err := os.ReadFile(path)
	mustOK(t, err)
	if _, _, err := decodeOrg(path, org, data); err != nil {
		t.Fatal(err)
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(data); i += step {
		for bit := 0; bit < 8; bit++ {
			flipped := append([]byte(nil), data...)
			flipped[i] ^= 1 << bit
			if _, _, err := decodeOrg(path, org, flipped); err == nil {
				t.Fatalf("flipping bit %d of byte %d (%q) was not detected", bit, i, data[i])
			}
		}
	}
}

// SEMANTICS D1 (and its one documented exception): when the fsync of the
// directory fails after the rename, the new file is already in place, so the
// store treats the mutation as applied — memory follows the file — and
// returns an error wrapping ErrDurabilityUncertain with the success output.
// A reopened store shows exactly the state the first one published.
func TestSemanticsD1_DirSyncFailureAppliesChange(t *testing.T) {
	dir := t.TempDir()
	s, _ := testStore(t, dir)
	org := mustCreate(t, s, "acme")
	gone := mustCreate(t, s, "gone")
	injected := errors.New("injected fsync failure")
	syncDirFault = func(string) error { return injected }
	defer func() { syncDirFault = nil }()
	uncertain := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrDurabilityUncertain) || !errors.Is(err, injected) {
			t.Fatalf("%s: err = %v, want ErrDurabilityUncertain wrapping the fsync error", what, err)
		}
		if policy.CodeOf(err) != "" {
			t.Fatalf("%s: an I/O error has an AWS code: %v", what, err)
		}
	}
	rev := s.Snapshot(org).Revision()
	_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: "x", Effect: policy.Deny})
	uncertain("PutAccessControlRule", err)
	if s.Snapshot(org).Revision() != rev+1 || len(rulesOf(t, s, org)) != 2 {
		t.Fatal("the rule whose file is in place was not published")
	}
	role, err := s.CreateImpersonationRole(context.Background(), simpleRole(org, "r"))
	uncertain("CreateImpersonationRole", err)
	if role.ImpersonationRoleId == "" {
		t.Fatal("CreateImpersonationRole did not return the ID of the role it created")
	}
	_, err = s.GetImpersonationRole(context.Background(), GetImpersonationRoleInput{OrganizationId: org, ImpersonationRoleId: role.ImpersonationRoleId})
	mustOK(t, err)
	created, err := s.CreateOrganization(context.Background(), CreateOrganizationInput{Alias: "new"})
	uncertain("CreateOrganization", err)
	if s.Snapshot(created.OrganizationId) == nil {
		t.Fatal("the created organization was not published")
	}
	del, err := s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: gone, DeleteDirectory: ptr(true)})
	uncertain("DeleteOrganization", err)
	if del.State != StateDeleted || s.Snapshot(gone) != nil {
		t.Fatalf("the deletion was not published: %+v", del)
	}
	syncDirFault = nil
	// Repeating the delete answers as for a deleted organization.
	_, err = s.DeleteOrganization(context.Background(), DeleteOrganizationInput{OrganizationId: gone, DeleteDirectory: ptr(true)})
	mustOK(t, err)
	wantList, err := s.ListOrganizations(context.Background(), ListOrganizationsInput{})
	mustOK(t, err)
	wantRules, wantRoles := rulesOf(t, s, org), allRoles(t, s, org, 0)
	mustOK(t, s.Close())

	s2, _ := testStore(t, dir)
	gotList, err := s2.ListOrganizations(context.Background(), ListOrganizationsInput{})
	mustOK(t, err)
	if diff := cmp.Diff(wantList, gotList); diff != "" {
		t.Fatalf("reopened organizations differ from the published ones: %s", diff)
	}
	if diff := cmp.Diff(wantRules, rulesOf(t, s2, org)); diff != "" {
		t.Fatalf("reopened rules differ: %s", diff)
	}
	if diff := cmp.Diff(wantRoles, allRoles(t, s2, org, 0)); diff != "" {
		t.Fatalf("reopened roles differ: %s", diff)
	}
}

// Durable from the first write: creating the state directory fsyncs the new
// directories and the existing parent the outermost one was created in, so a
// power loss right after the first 'org create' cannot lose the store.
func TestOpenCreatingTheStateDirFsyncsItsParent(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "var", "wmpolicy")
	var synced []string
	syncDirObserver = func(d string) { synced = append(synced, d) }
	defer func() { syncDirObserver = nil }()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	has := func(d string) bool {
		for _, x := range synced {
			if filepath.Clean(x) == filepath.Clean(d) {
				return true
			}
		}
		return false
	}
	for _, d := range []string{base, filepath.Join(base, "var"), dir, filepath.Join(dir, orgsDirName)} {
		if !has(d) {
			t.Errorf("%s was not fsynced; fsynced: %v", d, synced)
		}
	}
	// Reopening creates nothing, and so fsyncs no parent.
	synced = nil
	s, err = Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if has(base) {
		t.Errorf("reopening fsynced the parent again: %v", synced)
	}
}
