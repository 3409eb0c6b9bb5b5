package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SEMANTICS G3: wmpolicy serve --store postgres://… --health ADDR reports
// the store's freshness, and a change committed by another process (a
// 'wmpolicy org put-rule' on the same database) reaches the serving
// process's snapshot of --org.
func TestServeHealthPostgres(t *testing.T) {
	url := pgSchemaURL(t)
	out := orgCLI(t, 0, "", "create", "--store", url, "--alias", "served")
	id := strings.Split(strings.Split(out, `"OrganizationId": "`)[1], `"`)[0]

	sigs := make(chan chan<- os.Signal, 1)
	old := serveNotify
	serveNotify = func(c chan<- os.Signal, _ ...os.Signal) { sigs <- c }
	defer func() { serveNotify = old }()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		var stdout syncBuffer
		done <- run([]string{"serve", "--store", url, "--org", id, "--health", "127.0.0.1:0", "--log", "json"}, nil, &stdout, &stderr)
	}()
	var addr string
	waitCLI(t, "the health listener", func() bool {
		sc := bufio.NewScanner(strings.NewReader(stderr.String()))
		for sc.Scan() {
			var rec struct{ Msg, Listener, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" && rec.Listener == "health" {
				addr = rec.Addr
				return true
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
		return false
	})
	sig := <-sigs
	health := func() (int, healthStatus) {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st healthStatus
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, st
	}
	waitCLI(t, "fresh", func() bool { code, st := health(); return code == 200 && st.Fresh })
	if _, st := health(); st.Source != "postgres" || st.OrgRev != 1 || st.LastSync.IsZero() {
		t.Fatalf("health: %+v", st)
	}
	rule := writeTemp(t, "rule.json", `{"Name": "no-imap", "Effect": "DENY", "Description": "", "Actions": ["IMAP"]}`)
	orgCLI(t, 0, "", "put-rule", "--store", url, "--org", id, rule)
	waitCLI(t, "the serving process at revision 2", func() bool { _, st := health(); return st.OrgRev == 2 })
	sig <- syscall.SIGTERM
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func waitCLI(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
