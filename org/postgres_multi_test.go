package org

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/internal/pgtest"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The multi-process test's child: TestMultiProcessChild runs only in the
// processes TestSemanticsG1_ProcessesOneDatabase starts, configured by
// these variables.
const (
	mpChildEnv = "WMPOLICY_MP_CHILD" // the child's number
	mpURLEnv   = "WMPOLICY_MP_URL"   // the schema's URL
	mpOrgsEnv  = "WMPOLICY_MP_ORGS"  // the organizations, comma-separated
	mpLogEnv   = "WMPOLICY_MP_LOG"   // the file the child appends its lines to
	mpEndEnv   = "WMPOLICY_MP_END"   // end of writing, Unix nanoseconds
	mpHangEnv  = "WMPOLICY_MP_HANG"  // when to hang inside a transaction, Unix nanoseconds
)

const (
	mpRoleKeys = 30 // distinct ClientTokens of roles, shared by every child
	mpLimit    = 100000
)

// TestMultiProcessChild writes and reads the shared organizations until
// mpEndEnv, logging every write it tries ("TRY"), every acknowledged one
// ("ACK") and every refused one ("ERR"), one write(2) per line, so that a
// SIGKILL loses nothing logged. Then it waits until every writer has
// stopped and its snapshots equal the database's revisions ("FINAL").
func TestMultiProcessChild(t *testing.T) {
	child := os.Getenv(mpChildEnv)
	if child == "" {
		t.Skip("run by TestSemanticsG1_ProcessesOneDatabase")
	}
	endNs, _ := strconv.ParseInt(os.Getenv(mpEndEnv), 10, 64)
	end := time.Unix(0, endNs)
	orgs := strings.Split(os.Getenv(mpOrgsEnv), ",")
	log, err := os.OpenFile(os.Getenv(mpLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	logf := func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) }
	s, err := Open(Options{Postgres: os.Getenv(mpURLEnv), RuleLimit: mpLimit, RoleLimit: mpLimit})
	if err != nil {
		logf("BAD open %v", err)
		t.Fatal(err)
	}
	defer s.Close()
	req := accessctl.Request{IP: netip.MustParseAddr("127.0.0.9"), Action: accessctl.IMAP, UserID: alice.Id}
	lastRev := map[string]uint64{}
	staleAnswers, answers := 0, 0
	var hangAt time.Time
	if h, _ := strconv.ParseInt(os.Getenv(mpHangEnv), 10, 64); h != 0 {
		hangAt = time.Unix(0, h)
	}
	// hang is what the writer to be SIGKILLed does at hangAt, or at the end
	// of its run if a slow write carried it past hangAt and the end (a
	// reconnect's backoff under -race): it never ends its run normally.
	hang := func() {
		// The writer to be SIGKILLed: in the middle of a transaction
		// that has overwritten an organization's row with garbage and
		// holds its lock, it hangs until the kill.
		// The server may still be restarting (a restart on a loaded
		// machine took 1.7 s in CI): retry until the transaction is
		// open, for at most 15 s.
		ctx := context.Background()
		var err error
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var conn *pgx.Conn
			if conn, err = pgx.Connect(ctx, os.Getenv(mpURLEnv)); err == nil {
				var tx pgx.Tx
				if tx, err = conn.Begin(ctx); err == nil {
					_, err = tx.Exec(ctx, "UPDATE wmpolicy_orgs SET body = 'garbage', revision = revision + 1 WHERE id = $1", orgs[0])
				}
				if err != nil {
					conn.Close(ctx)
				}
			}
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		logf("HANG %v", err)
		time.Sleep(time.Minute)
	}
	for n := 0; time.Now().Before(end); n++ {
		if !hangAt.IsZero() && time.Now().After(hangAt) {
			hang()
		}
		org := orgs[n%len(orgs)]
		if n%5 == 4 {
			k := (n / 5) % mpRoleKeys
			logf("TRY role %s %d", org, k)
			out, err := s.CreateImpersonationRole(context.Background(), CreateImpersonationRoleInput{OrganizationId: org, Name: fmt.Sprintf("role-%d", k),
				Type: impersonation.ReadOnly, ClientToken: fmt.Sprintf("ct-%d", k)})
			if err != nil {
				logf("ERR role %s %d %s", org, k, errKind(err))
			} else {
				logf("ACK role %s %d %s", org, k, out.ImpersonationRoleId)
			}
		} else {
			name := fmt.Sprintf("p%s-%d", child, n)
			logf("TRY put %s %s", org, name)
			_, err := s.PutAccessControlRule(context.Background(), PutAccessControlRuleInput{OrganizationId: org, Name: name, Effect: policy.Allow, Actions: []string{"EWS"}})
			if err != nil {
				logf("ERR put %s %s %s", org, name, errKind(err))
			} else {
				logf("ACK put %s %s", org, name)
			}
		}
		// Reads: every organization answers, from a revision never older
		// than the last one seen, whether the feed is connected or not.
		fresh := s.SyncStatus().Fresh
		for _, o := range orgs {
			eff, _, rev, err := s.Evaluate(o, req, nil)
			if err != nil || eff != policy.Allow || rev < lastRev[o] {
				logf("BAD evaluate %s: %v rev %d after %d: %v", o, eff, rev, lastRev[o], err)
			}
			lastRev[o] = rev
			answers++
			if !fresh {
				staleAnswers++
			}
		}
	}
	if !hangAt.IsZero() {
		hang()
	}
	logf("END answers %d stale %d reconnects %d", answers, staleAnswers, s.SyncStatus().Reconnects)
	time.Sleep(time.Until(end.Add(1500 * time.Millisecond))) // every writer has stopped
	sb := s.sharedBackend()
	for _, o := range orgs {
		var want uint64
		deadline := time.Now().Add(15 * time.Second)
		for {
			want, err = sb.revision(context.Background(), o)
			if err == nil && s.SyncStatus().Fresh && s.Snapshot(o).Revision() == want {
				break
			}
			if time.Now().After(deadline) {
				logf("BAD final %s: snapshot %d, database %d (%v), %+v", o, s.Snapshot(o).Revision(), want, err, s.SyncStatus())
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		logf("FINAL %s %d", o, s.Snapshot(o).Revision())
	}
}

// errKind is an error's AWS code, or "io" for the others (a lost
// connection: the write may or may not have committed).
func errKind(err error) string {
	if c := policy.CodeOf(err); c != "" {
		return string(c)
	}
	return "io"
}

// SEMANTICS G1, G3, G4, B5, D1: three OS processes (this test binary,
// re-executed) write and read the same two organizations for 4 seconds
// while the test terminates every connection (pg_terminate_backend), then
// restarts the server (when .ci/postgres.sh says how), then SIGKILLs one
// writer in the middle of a transaction (it has overwritten a row with
// garbage and holds its lock, the other writers waiting on it). Afterwards the database holds exactly the acknowledged writes
// (plus writes whose connection failed mid-commit, which may or may not
// have committed, never an unattempted or duplicated one), each role
// ClientToken made one role whose ID every acknowledgement carries, the
// revisions count the writes exactly, every surviving process's final
// snapshots are the last revisions, and the processes kept answering while
// their feeds were down.
func TestSemanticsG1_ProcessesOneDatabase(t *testing.T) {
	base := pgURL(t)
	if os.Getenv(mpChildEnv) != "" {
		t.Skip("a child")
	}
	// This test terminates every connection and restarts the server: no
	// other test (of any package) may use the server meanwhile.
	pgtest.Exclusive(t, base)
	url := freshSchema(t, base)
	setup, err := Open(Options{Postgres: url, RuleLimit: mpLimit, RoleLimit: mpLimit})
	mustOK(t, err)
	var orgs []string
	for _, alias := range []string{"one", "two"} {
		id := mustCreate(t, setup, alias)
		addUsers(t, setup, id, alice)
		orgs = append(orgs, id)
	}
	setup.Close()

	dir := t.TempDir()
	start := time.Now()
	end := start.Add(4 * time.Second)
	const killed = 2
	hangAt := start.Add(2800 * time.Millisecond)
	var cmds []*exec.Cmd
	for i := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestMultiProcessChild$", "-test.count=1", "-test.timeout=60s")
		cmd.Env = append(os.Environ(), mpChildEnv+"="+strconv.Itoa(i), mpURLEnv+"="+url, mpOrgsEnv+"="+strings.Join(orgs, ","),
			mpLogEnv+"="+filepath.Join(dir, fmt.Sprintf("child%d.log", i)), mpEndEnv+"="+strconv.FormatInt(end.UnixNano(), 10))
		if i == killed {
			cmd.Env = append(cmd.Env, mpHangEnv+"="+strconv.FormatInt(hangAt.UnixNano(), 10))
		}
		out := new(strings.Builder)
		cmd.Stdout, cmd.Stderr = out, out
		mustOK(t, cmd.Start())
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			cmd.Process.Kill()
			if t.Failed() {
				t.Logf("child %d output:\n%s", i, out)
			}
		})
	}
	// Faults.
	time.Sleep(1000 * time.Millisecond)
	terminateAll(t, base)
	time.Sleep(700 * time.Millisecond)
	restarted := restartServer(t)
	// Child 2 hangs mid-transaction (holding a row lock the others wait
	// for, over a garbage row) until it is killed.
	killLog := filepath.Join(dir, fmt.Sprintf("child%d.log", killed))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(killLog)
		if strings.Contains(string(b), "HANG <nil>") {
			break
		}
		if strings.Contains(string(b), "HANG ") || time.Now().After(deadline) {
			t.Fatalf("child %d did not hang in a transaction: %s", killed, b[max(0, len(b)-300):])
		}
	}
	time.Sleep(200 * time.Millisecond) // the others queue on the row lock
	mustOK(t, cmds[killed].Process.Signal(syscall.SIGKILL))
	for i, cmd := range cmds {
		err := cmd.Wait()
		if i != killed && err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
	}

	// What the children did.
	type key struct{ org, name string }
	tried, acked, refused := map[key]bool{}, map[key]bool{}, map[key]bool{}
	roleIDs := map[key]map[string]bool{} // (org, k) → acknowledged IDs
	final := map[int]map[string]uint64{}
	stale, ambiguous := 0, 0
	for i := range cmds {
		f, err := os.Open(filepath.Join(dir, fmt.Sprintf("child%d.log", i)))
		mustOK(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			w := strings.Fields(sc.Text())
			switch {
			case w[0] == "BAD":
				t.Errorf("child %d: %s", i, sc.Text())
			case w[0] == "HANG":
			case w[0] == "END":
				n, _ := strconv.Atoi(w[4])
				stale += n
				t.Logf("child %d: %s", i, sc.Text())
			case w[0] == "FINAL":
				if final[i] == nil {
					final[i] = map[string]uint64{}
				}
				rev, _ := strconv.ParseUint(w[2], 10, 64)
				final[i][w[1]] = rev
			case w[1] == "put":
				k := key{w[2], w[3]}
				switch w[0] {
				case "TRY":
					tried[k] = true
				case "ACK":
					acked[k] = true
				case "ERR":
					if w[4] != "io" {
						refused[k] = true
					} else {
						ambiguous++
					}
				}
			case w[1] == "role" && w[0] == "ACK":
				k := key{w[2], "role-" + w[3]}
				if roleIDs[k] == nil {
					roleIDs[k] = map[string]bool{}
				}
				roleIDs[k][w[4]] = true
			}
		}
		f.Close()
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}

	// What the database holds, read by a new process's store.
	check, err := Open(Options{Postgres: url, RuleLimit: mpLimit, RoleLimit: mpLimit})
	mustOK(t, err)
	defer check.Close()
	writes := 0
	for _, org := range orgs {
		snap := check.Snapshot(org)
		rules := 0
		for _, r := range snap.Rules() {
			if r.Name == "default" {
				continue
			}
			rules++
			k := key{org, r.Name}
			if !tried[k] || refused[k] {
				t.Errorf("rule %s of %s: never tried, or refused, yet stored", r.Name, org)
			}
		}
		for k := range acked {
			if k.org == org && !hasRule(snap, k.name) {
				t.Errorf("acknowledged rule %s of %s is lost", k.name, org)
			}
		}
		names := map[string]string{}
		for _, r := range snap.Roles() {
			if other, dup := names[r.Name]; dup {
				t.Errorf("role %s twice in %s: %s and %s", r.Name, org, other, r.ImpersonationRoleId)
			}
			names[r.Name] = r.ImpersonationRoleId
		}
		for k, ids := range roleIDs {
			if k.org != org {
				continue
			}
			if len(ids) != 1 || !ids[names[k.name]] {
				t.Errorf("role %s of %s: acknowledged IDs %v, stored %q", k.name, org, ids, names[k.name])
			}
		}
		// Revision 1 (create) + 1 (the user) + one per rule and per role:
		// nothing applied twice (a repeated put would bump the revision
		// without adding a rule), nothing lost.
		if want := uint64(2 + rules + len(names)); snap.Revision() != want {
			t.Errorf("%s at revision %d, want 2 + %d rules + %d roles", org, snap.Revision(), rules, len(names))
		}
		writes += rules + len(names)
		for i, f := range final {
			if f[org] != snap.Revision() {
				t.Errorf("child %d's final snapshot of %s is revision %d, want %d", i, org, f[org], snap.Revision())
			}
		}
	}
	if len(final) != len(cmds)-1 {
		t.Errorf("%d children reported final snapshots, want %d", len(final), len(cmds)-1)
	}
	if restarted && stale == 0 {
		t.Error("no child answered while stale, though the server was restarted")
	}
	t.Logf("%d writes stored, %d acknowledged rule writes, %d io errors (ambiguous), %d answers while stale, server restarted: %v",
		writes, len(acked), ambiguous, stale, restarted)
}

func hasRule(s *Snapshot, name string) bool {
	for _, r := range s.Rules() {
		if r.Name == name {
			return true
		}
	}
	return false
}

// terminateAll terminates every other connection to the test database.
func terminateAll(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	mustOK(t, err)
	defer conn.Close(ctx)
	var n int
	mustOK(t, conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&n))
	t.Logf("terminated %d connections", n)
}

// restartServer restarts the test server with the pg_ctl command that
// .ci/postgres.sh exports; without it (a server of one's own) it does
// nothing and reports false.
func restartServer(t *testing.T) bool {
	t.Helper()
	ctl := strings.Fields(os.Getenv("WMPOLICY_TEST_POSTGRES_CTL"))
	if len(ctl) == 0 {
		t.Log("WMPOLICY_TEST_POSTGRES_CTL unset: the server is not restarted")
		return false
	}
	start := time.Now()
	out, err := exec.Command(ctl[0], append(ctl[1:], "restart", "-m", "fast", "-w", "-t", "30")...).CombinedOutput()
	if err != nil {
		t.Fatalf("restarting the server: %v\n%s", err, out)
	}
	t.Logf("server restarted in %v", time.Since(start).Round(time.Millisecond))
	return true
}
