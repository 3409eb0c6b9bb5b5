package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
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
	org := orgVerb(t, "--store", store)
	id := createOrg(t, org, "--alias", "e2e-fleet")
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

	var fleet []gateway
	for range 2 {
		w := realserver.StartWmpolicy(t, "--store", store, "--org", id, "--dovecot", "127.0.0.1:0")
		fleet = append(fleet, startGateway(t, w))
	}
	for _, g := range fleet {
		waitLogin(t, g, 0, "ALLOW", "default")
		for _, who := range []string{"dave", "mallory"} { // disabled, unknown
			wantCode(t, "IMAP "+who+" at "+g.imap, realserver.CurlMail(t, g.imap, office(), who), curlDeny)
		}
	}

	org("put-rule", "--org", id, file("deny.json",
		`{"Name":"bob-no-imap","Effect":"DENY","Description":"bob reads mail on the web only","Actions":["IMAP"],"UserIds":["bob@example.com"]}`))
	for _, g := range fleet {
		waitLogin(t, g, curlDeny, "DENY", "bob-no-imap")
	}
	org("delete-rule", "--org", id, "--name", "bob-no-imap")
	for _, g := range fleet {
		waitLogin(t, g, 0, "ALLOW", "default")
	}
}

// gateway is a real Dovecot asking a wmpolicy serve.
type gateway struct {
	w    *realserver.Wmpolicy
	imap string
}

// startGateway starts a Dovecot with deploy/'s policy snippet pointing at
// w's Dovecot listener.
func startGateway(t *testing.T, w *realserver.Wmpolicy) gateway {
	t.Helper()
	d := realserver.StartDovecot(t, realserver.DovecotConfig{
		Users: mailUsers,
		Extra: deploySnippet(t, "dovecot/95-wmpolicy.conf", dovecotDeployAddr, w.Addr("dovecot")),
	})
	return gateway{w, "imap://" + d.IMAP + "/"}
}

// waitLogin waits up to 10 s for bob's IMAP login from the office at g to
// end with curl exit code want (a change reaches serve's snapshot
// asynchronously), and checks wmpolicy's decision record of that attempt:
// effect, by rule.
func waitLogin(t *testing.T, g gateway, want int, effect, rule string) {
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

// TestDovecotStateDirAPI: 'wmpolicy serve --state DIR --org ID' holds the
// state directory's lock, so its organization changes through serve's own
// --api listener; a real Dovecot asking the same serve decides by every
// change at the next login (E4, F1): a rule naming bob by an alias created
// through the API (CreateAlias, F5, A18) refuses him, and deleting the rule
// lets him in again.
func TestDovecotStateDirAPI(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	org := orgVerb(t, "--state", state)
	id := createOrg(t, org, "--alias", "e2e-state", "--domain", "example.com")
	org("import-users", "--org", id, "testdata/users.json")
	w := realserver.StartWmpolicy(t, "--state", state, "--org", id, "--dovecot", "127.0.0.1:0",
		"--api", "127.0.0.1:0", "--insecure-no-auth")
	g := startGateway(t, w)
	api := func(op string, in map[string]any) {
		t.Helper()
		in["OrganizationId"] = id
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, "http://"+w.Addr("api")+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "WorkMailService."+op)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", op, resp.StatusCode, out)
		}
	}

	waitLogin(t, g, 0, "ALLOW", "default")
	api("CreateAlias", map[string]any{"EntityId": "bob", "Alias": "robert@example.com"})
	api("PutAccessControlRule", map[string]any{"Name": "robert-no-imap", "Effect": "DENY", "Description": "by his alias",
		"Actions": []string{"IMAP"}, "UserIds": []string{"robert@example.com"}})
	waitLogin(t, g, curlDeny, "DENY", "robert-no-imap")
	api("DeleteAccessControlRule", map[string]any{"Name": "robert-no-imap"})
	waitLogin(t, g, 0, "ALLOW", "default")
}

// orgVerb returns a function running 'wmpolicy org VERB where ARGS…' (where
// is --store URL or --state DIR) that fails the test unless it exits 0, and
// returns its output.
func orgVerb(t *testing.T, where, store string) func(verb string, args ...string) string {
	bin := realserver.Binary(t)
	return func(verb string, args ...string) string {
		t.Helper()
		r := realserver.Run(t, bin, append([]string{"org", verb, where, store}, args...)...)
		if r.Code != 0 {
			t.Fatalf("wmpolicy org %s %s: %v", verb, strings.Join(args, " "), r)
		}
		return r.Output
	}
}

// createOrg creates an organization with org ('org create' ARGS…) and
// returns its ID.
func createOrg(t *testing.T, org func(string, ...string) string, args ...string) string {
	t.Helper()
	var created struct{ OrganizationId string }
	if err := json.Unmarshal([]byte(org("create", args...)), &created); err != nil {
		t.Fatal(err)
	}
	return created.OrganizationId
}
