package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

const archiverID = "9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10" // examples/org/role.json

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// testIP is the header the test's ClientIP reads, to pretend requests come
// from elsewhere; the connection itself is always loopback.
const testIP = "X-Test-Client-IP"

type fixture struct {
	h     *Handler
	srv   *httptest.Server
	cfg   impersonation.EWSConfig
	issue func(org, role string, at time.Time) string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg, err := loadConfig("../org", "../org/demo-key.json", DemoOrganization)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = func() time.Time { return now }
	// A second, FULL_ACCESS role, so that writes can go through too.
	migration, err := impersonation.Compile(impersonation.Role{
		ImpersonationRoleId: "migration", Name: "migration", Type: impersonation.FullAccess,
		Rules: []impersonation.Rule{{ImpersonationRuleId: "bob-only", Effect: policy.Allow, TargetUsers: []string{"bob"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Roles = append(cfg.Roles, migration)
	a, err := impersonation.NewEWSAuthorizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{ClientIP: func(r *http.Request) (netip.Addr, error) {
		if s := r.Header.Get(testIP); s != "" {
			return netip.ParseAddr(s)
		}
		return remoteIP(r)
	}}
	h.Swap(a)
	srv := httptest.NewServer(h) // 127.0.0.1
	t.Cleanup(srv.Close)
	return &fixture{h: h, srv: srv, cfg: cfg, issue: func(org, role string, at time.Time) string {
		is, err := impersonation.NewIssuer(cfg.Keys, impersonation.IssuerOptions{Clock: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		out, err := is.AssumeImpersonationRole(org, role)
		if err != nil {
			t.Fatal(err)
		}
		return out.Token
	}}
}

type req struct {
	method, token, mailbox, query, ip string
}

func (f *fixture) do(t *testing.T, r req) (int, http.Header, Answer) {
	t.Helper()
	status, hdr, a, err := f.try(r)
	if err != nil {
		t.Fatal(err)
	}
	return status, hdr, a
}

// try sends one request; it is safe to call from any goroutine.
func (f *fixture) try(r req) (int, http.Header, Answer, error) {
	var a Answer
	if r.method == "" {
		r.method = http.MethodGet
	}
	hr, err := http.NewRequest(r.method, f.srv.URL+"/EWS/Exchange.asmx"+r.query, nil)
	if err != nil {
		return 0, nil, a, err
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.mailbox != "" {
		hr.Header.Set("X-AnchorMailbox", r.mailbox)
	}
	if r.ip != "" {
		hr.Header.Set(testIP, r.ip)
	}
	resp, err := f.srv.Client().Do(hr)
	if err != nil {
		return 0, nil, a, err
	}
	defer resp.Body.Close()
	if r.method != http.MethodHead {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			return 0, nil, a, fmt.Errorf("body: %w", err)
		}
	}
	return resp.StatusCode, resp.Header, a, nil
}

// SEMANTICS B9: every step of the decision, through HTTP.
func TestHandler(t *testing.T) {
	f := newFixture(t)
	archiver := f.issue(DemoOrganization, archiverID, now.Add(-time.Minute))
	migration := f.issue(DemoOrganization, "migration", now)
	const dc = "10.20.7.8" // inside the archiver's 10.20.0.0/16
	for _, tc := range []struct {
		name   string
		r      req
		status int
		want   Answer
	}{
		{"allowed read", req{token: archiver, mailbox: "bob@example.com", ip: dc}, 200,
			Answer{Allowed: true, Type: "READ_ONLY", Role: archiverID, Mailbox: "bob@example.com", Operation: "read",
				User: "S-1-1-11-1234567890-1234567890-1234567890-1002", MatchedRules: []string{"allow-all-users"}}},
		{"mailbox in the query", req{token: archiver, query: "?mailbox=carol", ip: dc}, 200,
			Answer{Allowed: true, Type: "READ_ONLY", Role: archiverID, Mailbox: "carol", Operation: "read",
				User: "S-1-1-11-1234567890-1234567890-1234567890-1003", MatchedRules: []string{"allow-all-users"}}},
		{"READ_ONLY role may not write", req{method: "POST", token: archiver, mailbox: "bob", ip: dc}, 405,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "bob", Operation: "write", Reason: "the role is READ_ONLY",
				User: "S-1-1-11-1234567890-1234567890-1234567890-1002", MatchedRules: []string{"allow-all-users"}}},
		{"FULL_ACCESS role may write", req{method: "PUT", token: migration, mailbox: "bob", ip: "192.0.2.1"}, 200,
			Answer{Allowed: true, Type: "FULL_ACCESS", Role: "migration", Mailbox: "bob", Operation: "write",
				User: "bob", MatchedRules: []string{"bob-only"}}},
		{"expired token", req{token: f.issue(DemoOrganization, archiverID, now.Add(-16*time.Minute)), mailbox: "bob", ip: dc}, 401,
			Answer{Mailbox: "bob", Operation: "read", Step: "token", Reason: "expired",
				Error: "InvalidParameterException: Token: the token has expired"}},
		{"token of another organization", req{token: f.issue("m-0123456789abcdef0123456789abcdef", archiverID, now), mailbox: "bob", ip: dc}, 401,
			Answer{Mailbox: "bob", Operation: "read", Step: "token", Reason: "wrong organization",
				Error: "InvalidParameterException: Token: the token was issued for another organization"}},
		{"tampered token", req{token: archiver[:len(archiver)-2] + "AA", mailbox: "bob", ip: dc}, 401,
			Answer{Mailbox: "bob", Operation: "read", Step: "token", Reason: "bad signature",
				Error: "InvalidParameterException: Token: the token's signature is not valid"}},
		{"outside the allowed range", req{token: archiver, mailbox: "bob", ip: "192.0.2.1"}, 403,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "bob", Operation: "read", Step: "access control",
				Reason: "explicit deny", MatchedRules: []string{"archiver-from-datacenter"}}},
		{"denied target", req{token: archiver, mailbox: "alice", ip: dc}, 403,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "alice", Operation: "read", Step: "role",
				Reason: "explicit deny", User: "S-1-1-11-1234567890-1234567890-1234567890-1001", MatchedRules: []string{"deny-admin"}}},
		{"unknown target", req{token: archiver, mailbox: "mallory@example.com", ip: dc}, 403,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "mallory@example.com", Operation: "read", Step: "role",
				Reason: "invalid mailbox", Error: `EntityNotFoundException: TargetUser: no user "mallory@example.com" in the directory`}},
		{"disabled target", req{token: archiver, mailbox: "dave", ip: dc}, 403,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "dave", Operation: "read", Step: "role",
				Reason: "invalid mailbox", Error: `EntityStateException: TargetUser: user "dave" is DISABLED: only an ENABLED user can be impersonated`}},
		{"missing token", req{mailbox: "bob", ip: dc}, 401,
			Answer{Operation: "read", Step: "token", Reason: "missing", Error: "an impersonation token is required: Authorization: Bearer <token>"}},
		{"missing mailbox", req{token: archiver, ip: dc}, 400,
			Answer{Operation: "read", Error: "the mailbox is required: the X-AnchorMailbox header or ?mailbox="}},
		{"IPv6 client", req{token: archiver, mailbox: "bob", ip: "2001:db8::1"}, 403,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "bob", Operation: "read", Step: "access control", Reason: "invalid request"}},
		// The real address of the test's connection: 127.0.0.1, outside 10.20.0.0/16.
		{"loopback connection", req{token: archiver, mailbox: "bob"}, 403,
			Answer{Type: "READ_ONLY", Role: archiverID, Mailbox: "bob", Operation: "read", Step: "access control",
				Reason: "explicit deny", MatchedRules: []string{"archiver-from-datacenter"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, got := f.do(t, tc.r)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %+v", status, tc.status, got)
			}
			if tc.name == "IPv6 client" {
				if !strings.Contains(got.Error, "IPv6") {
					t.Errorf("error %q", got.Error)
				}
				got.Error = ""
			}
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(tc.want)
			if string(gb) != string(wb) {
				t.Errorf("got  %s\nwant %s", gb, wb)
			}
			switch status {
			case 401:
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
				}
			case 405:
				if hdr.Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow %q", hdr.Get("Allow"))
				}
			}
			if hdr.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", hdr.Get("Content-Type"))
			}
		})
	}
}

// HEAD is a read.
func TestHead(t *testing.T) {
	f := newFixture(t)
	tok := f.issue(DemoOrganization, archiverID, now)
	if status, _, _ := f.do(t, req{method: http.MethodHead, token: tok, mailbox: "bob", ip: "10.20.0.1"}); status != 200 {
		t.Fatalf("status %d", status)
	}
}

// The authorizer is swapped atomically while requests are served: a role
// removed from the policy stops its tokens (SEMANTICS B8: a deleted role).
func TestSwap(t *testing.T) {
	f := newFixture(t)
	tok := f.issue(DemoOrganization, archiverID, now)
	withRole, without := f.h.auth.Load(), func() *impersonation.EWSAuthorizer {
		cfg := f.cfg
		cfg.Roles = cfg.Roles[1:] // the archiver role deleted
		a, err := impersonation.NewEWSAuthorizer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}()
	r := req{token: tok, mailbox: "bob", ip: "10.20.0.1"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				status, _, a, err := f.try(r)
				if err != nil {
					t.Error(err)
					return
				}
				if status != 200 && !(status == 401 && a.Reason == "role deleted") {
					t.Errorf("status %d: %+v", status, a)
				}
			}
		}()
	}
	for i := range 50 {
		if i%2 == 0 {
			f.h.Swap(without)
		} else {
			f.h.Swap(withRole)
		}
	}
	wg.Wait()
	f.h.Swap(without)
	if status, _, a := f.do(t, r); status != 401 || a.Reason != "role deleted" {
		t.Errorf("after the swap: %d %+v", status, a)
	}
	f.h.Swap(withRole)
	if status, _, _ := f.do(t, r); status != 200 {
		t.Errorf("after swapping back: %d", status)
	}
	var empty Handler
	rec := httptest.NewRecorder()
	empty.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("no authorizer: %d", rec.Code)
	}
}

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true,
		"[::1]:8080":     true,
		"127.1.2.3:0":    true,
		"0.0.0.0:8080":   false,
		":8080":          false,
		"192.0.2.1:80":   false,
		"[::]:8080":      false,
		"example.com:80": false,
		"127.0.0.1":      false,
	} {
		if err := checkLoopback(addr); (err == nil) != ok {
			t.Errorf("%q: %v", addr, err)
		}
	}
}

// The folder's files load, and the key file's problems are reported.
func TestLoadConfig(t *testing.T) {
	cfg, err := loadConfig("../org", "../org/demo-key.json", DemoOrganization)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Roles) != 1 || cfg.Roles[0].ID() != archiverID || cfg.Roles[0].Type() != impersonation.ReadOnly {
		t.Errorf("roles: %v", cfg.Roles)
	}
	if got := cfg.Keys.CurrentKeyID(); got != "demo-not-for-production" {
		t.Errorf("key ID %q", got)
	}
	if _, err := loadConfig("../org", "../org/rules.json", DemoOrganization); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("a rules file as the key file: %v", err)
	}
	if _, err := loadConfig("../nonexistent", "../org/demo-key.json", DemoOrganization); err == nil {
		t.Error("missing folder loads")
	}
}
