package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/internal/pgtest"
	"github.com/wmpolicy/wmpolicy/internal/realserver"
)

// TestDovecotFleetSharedStore: two gateways, each a real Dovecot asking its
// own 'wmpolicy serve --store postgres://… --org ID', share one organization
// in PostgreSQL and decide from it (E4). A rule put by a third process
// ('wmpolicy org put-rule --store …') reaches both gateways' snapshots
// (SEMANTICS G3) and refuses the next IMAP login at both; deleting it allows
// the login again. Disabled and unknown users are refused (E2).
func TestDovecotFleetSharedStore(t *testing.T) {
	store := pgtest.FreshSchema(t, pgtest.URL(t))
	bin := realserver.Binary(t)
	org := func(args ...string) string {
		t.Helper()
		r := realserver.Run(t, bin, append([]string{"org", args[0], "--store", store}, args[1:]...)...)
		if r.Code != 0 {
			t.Fatalf("wmpolicy org %s: %v", strings.Join(args, " "), r)
		}
		return r.Output
	}
	var created struct{ OrganizationId string }
	if err := json.Unmarshal([]byte(org("create", "--alias", "e2e-fleet")), &created); err != nil {
		t.Fatal(err)
	}
	id := created.OrganizationId
	dir := t.TempDir()
	file := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	org("import-users", "--org", id, "testdata/users.json")
	org("put-rule", "--org", id, file("default.json", `{"Name":"default","Effect":"ALLOW","Description":"everyone, everywhere","Actions":["IMAP","SMTP"]}`))

	type gateway struct {
		w    *realserver.Wmpolicy
		imap string
	}
	var fleet []gateway
	for range 2 {
		w := realserver.StartWmpolicy(t, "--store", store, "--org", id, "--dovecot", "127.0.0.1:0")
		d := realserver.StartDovecot(t, realserver.DovecotConfig{
			Users: mailUsers,
			Extra: deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot")),
		})
		fleet = append(fleet, gateway{w, "imap://" + d.IMAP + "/"})
	}
	// login waits up to 10 s for bob's IMAP login at gateway g to end with
	// want (the change travels through PostgreSQL's notifications), and
	// checks wmpolicy's decision record of the last attempt.
	login := func(g gateway, want int, effect, rule string) {
		t.Helper()
		start := time.Now()
		from := office() // one address for every attempt: the pool is finite
		for {
			n := len(g.w.Records())
			r := realserver.CurlMail(t, g.imap, from, "bob")
			rec := decision(t, g.w, n, "bob")
			if r.Code == want {
				if rec["effect"] != effect || !strings.Contains(toString(rec["rules"]), rule) {
					t.Errorf("decision record %v, want %s by %s", rec, effect, rule)
				}
				t.Logf("%s: %s after %v", g.imap, effect, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("IMAP bob at %s: %v, still not exit %d after 10 s (last decision %v)", g.imap, r, want, rec)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, g := range fleet {
		login(g, 0, "ALLOW", "default")
		for _, who := range []string{"dave", "mallory"} { // disabled, unknown
			wantCode(t, "IMAP "+who+" at "+g.imap, realserver.CurlMail(t, g.imap, office(), who), curlDeny)
		}
	}

	org("put-rule", "--org", id, file("deny.json",
		`{"Name":"bob-no-imap","Effect":"DENY","Description":"bob reads mail on the web only","Actions":["IMAP"],"UserIds":["bob@example.com"]}`))
	for _, g := range fleet {
		login(g, curlDeny, "DENY", "bob-no-imap")
	}
	org("delete-rule", "--org", id, "--name", "bob-no-imap")
	for _, g := range fleet {
		login(g, 0, "ALLOW", "default")
	}
}
