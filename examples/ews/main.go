// Command ews shows how an EWS front end authorizes impersonated requests with
// wmpolicy (SEMANTICS B8, B9): an HTTP handler that lets a request through only
// when its impersonation token verifies, the organization's access-control
// rules allow EWS to the token's role from the client's address, and the role
// allows impersonating the mailbox asked for, and that holds READ_ONLY roles to
// reads.
//
//	go run ./examples/ews -dir examples/org            # listens on 127.0.0.1:8080
//	TOKEN=$(go run ./cmd/wmpolicy token issue --key examples/org/demo-key.json \
//	    --org m-d281d0a2fd824be5b6cd3d3ce909fd27 --role 9f1c2a64-3b7e-4d5a-8c21-0e6b7a9d4f10 |
//	    sed -n 's/.*"Token": "\(.*\)".*/\1/p')
//	curl -H "Authorization: Bearer $TOKEN" -H "X-AnchorMailbox: bob@example.com" http://127.0.0.1:8080/EWS/Exchange.asmx
//
// From 127.0.0.1 the last command answers 403: the example rules let the
// archiver role in from 10.20.0.0/16 only. Start the server with
// -as-client 10.20.1.1 to pretend every request comes from the data center:
// then bob's mailbox answers 200, alice's 403 (the role denies the
// administrator) and a POST 405 (the role is READ_ONLY).
//
// # The request
//
//   - The token: "Authorization: Bearer <token>", the token an
//     AssumeImpersonationRole call returned (`wmpolicy token issue`).
//   - The mailbox to impersonate: the X-AnchorMailbox header, as EWS clients
//     send it, or else the "mailbox" query parameter; a user ID, email address
//     or user name.
//   - The client's address: r.RemoteAddr by default. Behind a proxy, set
//     Handler.ClientIP to read the proxy's header, and trust it only from the
//     proxy itself.
//   - Reads are GET and HEAD; every other method is a write.
//
// # The answer
//
// JSON, always with "allowed":
//
//	200  allowed: {"allowed":true,"type":"READ_ONLY","operation":"read",...}
//	400  no mailbox, or an unusable client address
//	401  no token, or a token that does not verify ("step":"token", "reason": why),
//	     with a WWW-Authenticate: Bearer header
//	403  the access-control rules or the role deny ("step": "access control" or
//	     "role", "reason", the deciding rules, and "error" for an unknown or
//	     disabled mailbox or an unusable address)
//	405  a write through a READ_ONLY role (checked after everything else, so
//	     that it tells nothing to a client who may not impersonate at all)
//
// The authorizer lives behind an atomic pointer: SIGHUP reloads the folder and
// swaps a new one in while requests keep being served. Example data only: the
// key in examples/org/demo-key.json is public and must never sign real tokens.
// The server listens on a loopback address only.
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// DemoOrganization is the example organization's ID (the one the AWS CLI
// documentation uses).
const DemoOrganization = "m-d281d0a2fd824be5b6cd3d3ce909fd27"

// Handler is the EWS endpoint. Its zero value answers 503 until an authorizer
// is stored with Swap.
type Handler struct {
	auth atomic.Pointer[impersonation.EWSAuthorizer]
	// ClientIP returns the client's address; nil means the address of
	// r.RemoteAddr. Set it before serving.
	ClientIP func(r *http.Request) (netip.Addr, error)
}

// Swap makes a the authorizer of every request from now on; requests in
// flight finish with the one they loaded.
func (h *Handler) Swap(a *impersonation.EWSAuthorizer) { h.auth.Store(a) }

// remoteIP is the default ClientIP: the address of the TCP peer.
func remoteIP(r *http.Request) (netip.Addr, error) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr().Unmap(), nil
}

// Answer is the JSON body of every response.
type Answer struct {
	Allowed      bool     `json:"allowed"`
	Type         string   `json:"type,omitempty"`      // the role's type, once the token verified
	Role         string   `json:"role,omitempty"`      // the token's role ID
	Mailbox      string   `json:"mailbox,omitempty"`   // as asked for
	User         string   `json:"user,omitempty"`      // the user ID it resolved to
	Operation    string   `json:"operation,omitempty"` // read or write
	Step         string   `json:"step,omitempty"`      // the step that refused: token, access control, role
	Reason       string   `json:"reason,omitempty"`
	Error        string   `json:"error,omitempty"`
	MatchedRules []string `json:"matchedRules,omitempty"` // the deciding rules of the refusing step (of the role when allowed)
}

func reply(w http.ResponseWriter, status int, a Answer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(a)
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func roleRuleIDs(m []impersonation.MatchedRule) []string {
	ids := make([]string, len(m))
	for i, r := range m {
		ids[i] = r.ImpersonationRuleId
	}
	return ids
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	auth := h.auth.Load()
	if auth == nil {
		reply(w, http.StatusServiceUnavailable, Answer{Error: "no policy loaded"})
		return
	}
	op := "write"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		op = "read"
	}
	token, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ews"`)
		reply(w, http.StatusUnauthorized, Answer{Operation: op, Step: "token", Reason: "missing",
			Error: "an impersonation token is required: Authorization: Bearer <token>"})
		return
	}
	mailbox := r.Header.Get("X-AnchorMailbox")
	if mailbox == "" {
		mailbox = r.URL.Query().Get("mailbox")
	}
	if mailbox == "" {
		reply(w, http.StatusBadRequest, Answer{Operation: op, Error: "the mailbox is required: the X-AnchorMailbox header or ?mailbox="})
		return
	}
	clientIP := h.ClientIP
	if clientIP == nil {
		clientIP = remoteIP
	}
	ip, err := clientIP(r)
	if err != nil {
		reply(w, http.StatusBadRequest, Answer{Operation: op, Mailbox: mailbox, Error: "no usable client address"})
		return
	}

	d := auth.Authorize(token, ip, mailbox)
	a := Answer{Allowed: d.Allowed, Mailbox: mailbox, Operation: op}
	if d.Type.Valid() {
		a.Type = d.Type.String()
		a.Role = d.Claims.RoleID
	}
	switch d.Failed {
	case impersonation.StepToken:
		var te *impersonation.TokenError
		if errors.As(d.TokenErr, &te) {
			a.Reason, a.Error = te.Reason.String(), te.Err.Error()
		} else {
			a.Reason = d.TokenErr.Error()
		}
		a.Step = "token"
		w.Header().Set("WWW-Authenticate", `Bearer realm="ews", error="invalid_token"`)
		reply(w, http.StatusUnauthorized, a)
		return
	case impersonation.StepAccessControl:
		a.Step = d.Failed.String()
		if d.AccessControlErr != nil {
			a.Reason, a.Error = "invalid request", d.AccessControlErr.Error()
		} else {
			a.Reason, a.MatchedRules = d.AccessControl.Reason.String(), d.AccessControl.MatchedRules
		}
		reply(w, http.StatusForbidden, a)
		return
	case impersonation.StepRole:
		a.Step = d.Failed.String()
		if d.RoleErr != nil {
			a.Reason, a.Error = "invalid mailbox", d.RoleErr.Error()
		} else {
			a.Reason, a.MatchedRules, a.User = d.Role.Reason.String(), roleRuleIDs(d.Role.MatchedRules), d.Role.UserID
		}
		reply(w, http.StatusForbidden, a)
		return
	}
	a.User, a.MatchedRules = d.Role.UserID, roleRuleIDs(d.Role.MatchedRules)
	if op == "write" && d.Type == impersonation.ReadOnly {
		a.Allowed = false
		a.Reason = "the role is READ_ONLY"
		w.Header().Set("Allow", "GET, HEAD")
		reply(w, http.StatusMethodNotAllowed, a)
		return
	}
	// A real front end would now serve the EWS operation on the mailbox.
	reply(w, http.StatusOK, a)
}

// keyFile is the key file of `wmpolicy token`: the first key signs, all verify.
type keyFile struct {
	Keys []struct {
		Id     string `json:"Id"`
		Secret string `json:"Secret"` // standard base64
	} `json:"Keys"`
}

// loadKeys reads a key file strictly.
func loadKeys(name string) (*impersonation.KeyRing, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var kf keyFile
	if err := policy.DecodeStrict(data, &kf); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(kf.Keys) == 0 {
		return nil, fmt.Errorf("%s: no keys", name)
	}
	keys := make([]impersonation.Key, len(kf.Keys))
	for i, k := range kf.Keys {
		s, err := base64.StdEncoding.Strict().DecodeString(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("%s: Keys[%d].Secret is not standard base64", name, i)
		}
		keys[i] = impersonation.Key{ID: k.Id, Secret: s}
	}
	ring, err := impersonation.NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ring, nil
}

// loadConfig reads the organization's folder: rules.json
// (list-access-control-rules), users.json (list-users), role.json
// (get-impersonation-role) and the key file.
func loadConfig(dir, keyName, org string) (impersonation.EWSConfig, error) {
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
	data, err := read("users.json")
	if err != nil {
		return impersonation.EWSConfig{}, err
	}
	users, err := policy.DecodeUsers(data)
	if err != nil {
		return impersonation.EWSConfig{}, fmt.Errorf("users.json: %w", err)
	}
	if data, err = read("rules.json"); err != nil {
		return impersonation.EWSConfig{}, err
	}
	rules, err := accessctl.DecodeRules(data)
	if err != nil {
		return impersonation.EWSConfig{}, fmt.Errorf("rules.json: %w", err)
	}
	ac, err := accessctl.Compile(rules, accessctl.Options{Directory: users})
	if err != nil {
		return impersonation.EWSConfig{}, fmt.Errorf("rules.json: %w", err)
	}
	if data, err = read("role.json"); err != nil {
		return impersonation.EWSConfig{}, err
	}
	role, err := impersonation.DecodeRole(data)
	if err != nil {
		return impersonation.EWSConfig{}, fmt.Errorf("role.json: %w", err)
	}
	ev, err := impersonation.Compile(role, users)
	if err != nil {
		return impersonation.EWSConfig{}, fmt.Errorf("role.json: %w", err)
	}
	ring, err := loadKeys(keyName)
	if err != nil {
		return impersonation.EWSConfig{}, err
	}
	return impersonation.EWSConfig{
		OrganizationID: org,
		AccessControl:  ac,
		Roles:          []*impersonation.Evaluator{ev},
		Keys:           ring,
	}, nil
}

// checkLoopback refuses a listen address that is not a loopback address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: this example listens on 127.0.0.1 or ::1 only", addr)
	}
	return nil
}

func main() {
	dir := flag.String("dir", "examples/org", "folder with rules.json, users.json and role.json")
	key := flag.String("key", "", "key file (default DIR/demo-key.json)")
	org := flag.String("org", DemoOrganization, "organization ID the tokens must be for")
	addr := flag.String("addr", "127.0.0.1:8080", "loopback address to listen on")
	asClient := flag.String("as-client", "", "for trying the example: treat every request as coming from this IPv4 `address` (such as 10.20.1.1)")
	flag.Parse()
	if *key == "" {
		*key = filepath.Join(*dir, "demo-key.json")
	}
	if err := checkLoopback(*addr); err != nil {
		log.Fatal(err)
	}
	h := &Handler{}
	if *asClient != "" {
		ip, err := netip.ParseAddr(*asClient)
		if err != nil {
			log.Fatalf("-as-client: %v", err)
		}
		h.ClientIP = func(*http.Request) (netip.Addr, error) { return ip, nil }
	}
	load := func() error {
		cfg, err := loadConfig(*dir, *key, *org)
		if err != nil {
			return err
		}
		a, err := impersonation.NewEWSAuthorizer(cfg)
		if err != nil {
			return err
		}
		h.Swap(a)
		return nil
	}
	if err := load(); err != nil {
		log.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			if err := load(); err != nil {
				log.Printf("reload failed, keeping the current policy: %v", err)
			} else {
				log.Print("reloaded")
			}
		}
	}()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	log.Printf("EWS example for %s listening on http://%s (demo key: never use it for real tokens)", *org, *addr)
	log.Fatal(srv.ListenAndServe())
}
