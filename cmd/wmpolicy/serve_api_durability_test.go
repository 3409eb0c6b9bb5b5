package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/awsapi"
)

// servedBinary is 'wmpolicy serve' run as its own process.
type servedBinary struct {
	cmd  *exec.Cmd
	addr string
}

// startBinary starts bin serve with args, its log in logFile, and waits for
// the API's address.
func startBinary(t *testing.T, bin, logFile string, args ...string) *servedBinary {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 200; i++ {
		b, _ := os.ReadFile(logFile)
		if m := listeningRE.FindSubmatch(b); m != nil {
			return &servedBinary{cmd: cmd, addr: string(m[1])}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logFile)
	t.Fatalf("serve did not start: %s", b)
	return nil
}

// apiClient signs requests with one key, over a shared keep-alive pool.
type apiClient struct {
	addr string
	key  awsapi.Key
	http *http.Client
}

func (c *apiClient) call(ctx context.Context, op string, in any, out any) (int, error) {
	body, _ := json.Marshal(in)
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.addr+"/", strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	r.Header.Set("Content-Type", awsapi.ContentType)
	r.Header.Set("X-Amz-Target", awsapi.TargetPrefix+op)
	awsapi.SignRequest(r, body, c.key.AccessKeyId, c.key.SecretAccessKey, "us-east-1", time.Now())
	resp, err := c.http.Do(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == 200 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return 0, err
		}
	}
	return resp.StatusCode, nil
}

// TestServeAPIDurability: 50 concurrent loopback clients drive 'wmpolicy
// serve --api' for 10 s with a mix of reads (GetAccessControlEffect,
// DescribeUser, ListUsers) and writes (CreateUser, PutAccessControlRule);
// the server is then killed with SIGKILL while they run, restarted on the
// same state directory, and every write it acknowledged (HTTP 200) must be
// there (SEMANTICS D1, F3; the store's fsync before the answer).
func TestServeAPIDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("the durability load test runs 10 s; skipped with -short")
	}
	const clients, orgs = 50, 5
	load := 10 * time.Second
	dir := t.TempDir()
	bin := filepath.Join(dir, "wmpolicy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	state := filepath.Join(dir, "state")
	srv := startBinary(t, bin, filepath.Join(dir, "serve1.log"), "--state", state, "--api", "127.0.0.1:0", "--generate-key", "--log", "json")
	var creds struct{ Keys []awsapi.Key }
	data, _ := os.ReadFile(filepath.Join(state, apiCredentialsName))
	if err := json.Unmarshal(data, &creds); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &apiClient{addr: srv.addr, key: creds.Keys[0], http: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	ctx := context.Background()
	var orgIDs []string
	for i := 0; i < orgs; i++ {
		var out struct{ OrganizationId string }
		if st, err := c.call(ctx, "CreateOrganization", map[string]any{"Alias": fmt.Sprintf("load%d", i)}, &out); st != 200 {
			t.Fatalf("CreateOrganization: %d %v", st, err)
		}
		orgIDs = append(orgIDs, out.OrganizationId)
		if st, err := c.call(ctx, "CreateUser", map[string]any{"OrganizationId": out.OrganizationId, "Name": "reader", "DisplayName": "reader"}, nil); st != 200 {
			t.Fatalf("CreateUser: %d %v", st, err)
		}
	}

	type ackUser struct{ org, id, name string }
	var mu sync.Mutex
	var users []ackUser
	// (org, name) → the last acknowledged description, and the descriptions
	// attempted after it: one whose answer the SIGKILL cut off may be stored
	// (it was applied, then the process died before it answered).
	rules := map[[2]string]string{}
	pending := map[[2]string][]string{}
	var reads, writes, failures atomic.Int64
	var killing atomic.Bool // set just before SIGKILL: failures from then on are expected
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			org := orgIDs[w%orgs]
			for n := 0; lctx.Err() == nil; n++ {
				var st int
				var err error
				switch n % 6 {
				case 0: // write: a new user
					name := fmt.Sprintf("u%d-%d", w, n)
					var out struct{ UserId string }
					st, err = c.call(lctx, "CreateUser", map[string]any{"OrganizationId": org, "Name": name, "DisplayName": name}, &out)
					if st == 200 {
						mu.Lock()
						users = append(users, ackUser{org, out.UserId, name})
						mu.Unlock()
						writes.Add(1)
					}
				case 3: // write: replace one of this client's rules (at most 9 rules per organization)
					name := fmt.Sprintf("c%d", w/orgs%9)
					desc := fmt.Sprintf("w%d n%d", w, n)
					k := [2]string{org, name}
					mu.Lock() // one writer per (org, rule) at a time, so the last ack is the stored one
					pending[k] = append(pending[k], desc)
					st, err = c.call(lctx, "PutAccessControlRule", map[string]any{"OrganizationId": org, "Name": name, "Effect": "DENY",
						"Description": desc, "Actions": []string{"IMAP"}, "IpRanges": []string{"192.0.2.0/24"}}, nil)
					if st == 200 {
						rules[k] = desc
						pending[k] = nil
						writes.Add(1)
					}
					mu.Unlock()
				case 1, 4:
					st, err = c.call(lctx, "GetAccessControlEffect", map[string]any{"OrganizationId": org, "IpAddress": "127.0.0.1", "Action": "IMAP", "UserId": "reader"}, nil)
					reads.Add(1)
				case 2:
					st, err = c.call(lctx, "ListUsers", map[string]any{"OrganizationId": org, "MaxResults": 10}, nil)
					reads.Add(1)
				case 5:
					st, err = c.call(lctx, "ListAccessControlRules", map[string]any{"OrganizationId": org}, nil)
					reads.Add(1)
				}
				if st != 200 && !killing.Load() {
					failures.Add(1)
					if failures.Load() < 5 {
						t.Errorf("client %d request %d: %d %v", w, n, st, err)
					}
				}
			}
		}(w)
	}
	time.Sleep(load)
	// SIGKILL while the clients are still running.
	killing.Store(true)
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()
	cancel()
	wg.Wait()
	tr.CloseIdleConnections()
	t.Logf("%d clients, %v: %d acknowledged writes (%d users, %d rules), %d reads, %.0f requests/s; then SIGKILL",
		clients, load, writes.Load(), len(users), len(rules), reads.Load(), float64(writes.Load()+reads.Load())/load.Seconds())
	if writes.Load() == 0 {
		t.Fatal("no write was acknowledged")
	}

	srv = startBinary(t, bin, filepath.Join(dir, "serve2.log"), "--state", state, "--api", "127.0.0.1:0")
	c.addr = srv.addr
	missing := 0
	for _, u := range users {
		var out struct{ UserId, Name string }
		st, err := c.call(ctx, "DescribeUser", map[string]any{"OrganizationId": u.org, "UserId": u.id}, &out)
		if st != 200 || out.Name != u.name {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged user %s of %s: %d %v %+v", u.id, u.org, st, err, out)
			}
		}
	}
	for k, desc := range rules {
		var out struct {
			Rules []struct{ Name, Description string }
		}
		if st, err := c.call(ctx, "ListAccessControlRules", map[string]any{"OrganizationId": k[0]}, &out); st != 200 {
			t.Fatalf("ListAccessControlRules: %d %v", st, err)
		}
		found := false
		for _, r := range out.Rules {
			found = found || (r.Name == k[1] && (r.Description == desc || slices.Contains(pending[k], r.Description)))
		}
		if !found {
			missing++
			t.Errorf("acknowledged rule %s of %s (%q) is not there: %+v", k[1], k[0], desc, out.Rules)
		}
	}
	if missing > 0 {
		t.Fatalf("%d acknowledged writes lost", missing)
	}
	if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGINT: %v", err)
	}
}
