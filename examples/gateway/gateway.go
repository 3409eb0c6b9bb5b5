package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Config configures a Gateway. RulesFile and UsersFile are required; every
// other field has a usable zero value.
type Config struct {
	// RulesFile is `aws workmail list-access-control-rules` output; it is
	// watched and reloaded on change.
	RulesFile string
	// UsersFile is `aws workmail list-users` output: the directory login names
	// are resolved through (SEMANTICS A18). It is watched too; the rules are
	// recompiled against the new directory and swapped in together with it.
	UsersFile string
	// Poll is how often the files are checked for changes; zero means one second.
	Poll time.Duration
	// Log receives one record per login decision and per reload; nil means
	// slog.Default().
	Log *slog.Logger
	// ProxyHeader makes every connection start with a PROXY protocol v1 header
	// (as HAProxy sends it), whose source address is the client's address. Only
	// a loopback peer may send one: the proxy runs on this host. A connection
	// without a valid header is closed.
	ProxyHeader bool
	// AsClient, when valid, is used as every client's address (for trying the
	// example by hand); it takes precedence over ProxyHeader.
	AsClient netip.Addr
	// IdleTimeout closes a connection that sends nothing for this long; zero
	// means five minutes.
	IdleTimeout time.Duration
	// Authenticate checks a password; nil accepts any non-empty password.
	// Authentication is not what this example is about: a real gateway checks
	// the password (or token) here, then asks the access-control rules.
	// It must be safe for concurrent use.
	Authenticate func(u policy.User, password string) bool
}

// snapshot is one consistent generation of the configuration: a policy and
// the directory it was compiled against. A login loads one snapshot and uses
// only it, so a reload is never half-applied to it.
type snapshot struct {
	policy  *accessctl.Policy
	dir     *policy.MemDirectory
	version uint64 // 1 for the rules loaded at start, +1 per applied reload
	rules   int
}

// ReloadStatus counts reload attempts.
type ReloadStatus struct {
	Version  uint64 // the version of the rules in force: 1 at start, +1 per applied reload
	Applied  uint64 // reloads that compiled and were swapped in
	Rejected uint64 // reloads that failed (invalid contents, or a file that could not be read): the rules in force stayed
	// LastError is the error of the last rejected reload, nil when the last
	// attempt was applied.
	LastError error
}

// Gateway answers IMAP and SMTP logins with the organization's access-control
// rules. Build it with New; it is safe for concurrent use, and serves any
// number of listeners (ServeIMAP, ServeSMTP) while Watch reloads the files.
type Gateway struct {
	cfg  Config
	log  *slog.Logger
	cur  atomic.Pointer[snapshot]
	conn atomic.Uint64 // connection numbers, for the log

	checkMu sync.Mutex // serializes Check
	rules   watchedFile
	users   watchedFile
	pending bool // a file changed and has not been compiled yet

	mu     sync.Mutex // guards status and notify
	status ReloadStatus
	notify chan struct{} // closed and replaced after every reload attempt
}

// New loads and compiles the files; it fails, listing every problem with its
// file and field path, when they are not valid.
func New(cfg Config) (*Gateway, error) {
	if cfg.RulesFile == "" || cfg.UsersFile == "" {
		return nil, errors.New("both a rules file and a users file are required")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	g := &Gateway{cfg: cfg, log: cfg.Log, notify: make(chan struct{})}
	g.rules.path, g.users.path = cfg.RulesFile, cfg.UsersFile
	now := time.Now()
	if _, err := g.rules.poll(now); err != nil {
		return nil, err
	}
	if _, err := g.users.poll(now); err != nil {
		return nil, err
	}
	s, err := g.compile()
	if err != nil {
		return nil, err
	}
	s.version = 1
	g.cur.Store(s)
	g.status.Version = 1
	g.log.Info("rules loaded", "version", 1, "rules", s.rules, "users", s.dir.Len(),
		"rules_file", cfg.RulesFile, "users_file", cfg.UsersFile)
	return g, nil
}

// fileError is a problem in one of the watched files.
type fileError struct {
	file string
	err  error
}

func (e *fileError) Error() string { return e.file + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// compile builds a snapshot from the files' last read contents.
func (g *Gateway) compile() (*snapshot, error) {
	dir, err := policy.DecodeUsers(g.users.data)
	if err != nil {
		return nil, &fileError{g.users.path, err}
	}
	rules, err := accessctl.DecodeRules(g.rules.data)
	if err != nil {
		return nil, &fileError{g.rules.path, err}
	}
	p, err := accessctl.Compile(rules, accessctl.Options{Directory: dir})
	if err != nil {
		// Rules naming a user the directory does not know (A18).
		return nil, &fileError{g.rules.path, err}
	}
	for _, n := range accessctl.Notes(rules) {
		g.log.Info("note", "file", g.rules.path, "note", n)
	}
	return &snapshot{policy: p, dir: dir, rules: len(rules)}, nil
}

// ReloadStatus returns the reload counters.
func (g *Gateway) ReloadStatus() ReloadStatus {
	s, _ := g.reloadState()
	return s
}

// reloadState returns the counters and a channel closed at the next reload
// attempt, read together so that a waiter misses no attempt.
func (g *Gateway) reloadState() (ReloadStatus, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status, g.notify
}

func (g *Gateway) reloaded(update func(*ReloadStatus)) {
	g.mu.Lock()
	update(&g.status)
	close(g.notify)
	g.notify = make(chan struct{})
	g.mu.Unlock()
}

// Watch checks the files every Config.Poll until ctx is done.
func (g *Gateway) Watch(ctx context.Context) {
	t := time.NewTicker(g.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.Check()
		}
	}
}

// Check looks at both files once and, when either changed, compiles them and
// swaps the new rules in. When they do not compile, the rules in force stay,
// and every problem is logged with its file and field path. Logins never wait
// for Check, and never see a half-applied change: the policy and the directory
// are published together by one atomic pointer store.
func (g *Gateway) Check() {
	g.checkMu.Lock()
	defer g.checkMu.Unlock()
	now := time.Now()
	rc, rerr := g.rules.poll(now)
	uc, uerr := g.users.poll(now)
	g.pending = g.pending || rc || uc
	if err := errors.Join(rerr, uerr); err != nil {
		// An unreadable file (deleted, permissions): keep the rules in force,
		// and compile once both files read again. Each distinct problem is
		// logged and counted once, not at every poll.
		if g.rules.failed || g.users.failed {
			g.log.Error("reload failed: keeping the rules in force", "version", g.cur.Load().version, "error", err)
			g.reloaded(func(s *ReloadStatus) { s.Rejected++; s.LastError = err })
		}
		return
	}
	if !g.pending {
		return
	}
	g.pending = false
	s, err := g.compile()
	if err != nil {
		old := g.cur.Load()
		var fe *fileError
		errors.As(err, &fe)
		for _, e := range policy.Errors(fe.err) {
			g.log.Error("reload rejected: keeping the rules in force", "version", old.version,
				"file", fe.file, "code", string(e.Code), "path", e.Path, "problem", e.Message)
		}
		g.reloaded(func(s *ReloadStatus) { s.Rejected++; s.LastError = err })
		return
	}
	s.version = g.cur.Load().version + 1
	g.cur.Store(s)
	g.log.Info("rules reloaded", "version", s.version, "rules", s.rules, "users", s.dir.Len())
	g.reloaded(func(st *ReloadStatus) { st.Applied++; st.Version = s.version; st.LastError = nil })
}

// outcome is the answer to one login.
type outcome struct {
	step    step          // where the login stopped; stepNone when allowed
	effect  policy.Effect // Allow only when step is stepNone
	user    policy.User   // the user the login name resolved to
	matched []string      // the deciding rules (A7), in the caller's slice
	err     error         // why the access-control request was invalid
	version uint64        // the rules' version that decided
	reason  policy.Reason // explicit allow, explicit deny or implicit deny
	action  accessctl.Action
}

// step is where a login stopped.
type step uint8

const (
	stepNone          step = iota // allowed
	stepUnknownUser               // the login name names no user (A18)
	stepDisabled                  // the user is not ENABLED
	stepPassword                  // Authenticate said no
	stepAccessControl             // the rules deny (or the request is invalid, err set)
)

func (s step) String() string {
	return [...]string{"allowed", "unknown user", "user not enabled", "bad password", "access control"}[s]
}

// decide is the hot path of every login: resolve the login name through the
// directory, check the user, the password and then the access-control rules
// with the allocation-free Evaluate, appending the deciding rules to
// matched[:0]. Everything comes from one snapshot. It does not allocate when
// matched has room (and Authenticate does not).
func (g *Gateway) decide(ip netip.Addr, action accessctl.Action, login, password string, matched []string) outcome {
	s := g.cur.Load()
	o := outcome{version: s.version, effect: policy.Deny, matched: matched[:0], action: action}
	u, ok := s.dir.Lookup(login)
	if !ok {
		o.step = stepUnknownUser
		return o
	}
	o.user = u
	if !u.Enabled() {
		o.step = stepDisabled
		return o
	}
	if password == "" || (g.cfg.Authenticate != nil && !g.cfg.Authenticate(u, password)) {
		o.step = stepPassword
		return o
	}
	o.effect, o.matched, o.err = s.policy.Evaluate(accessctl.Request{IP: ip, Action: action, UserID: u.ID}, o.matched)
	switch {
	case o.err != nil:
		o.effect = policy.Deny
	case o.effect == policy.Allow:
		o.reason = policy.ExplicitAllow
		return o
	case len(o.matched) > 0:
		o.reason = policy.ExplicitDeny
	default:
		o.reason = policy.ImplicitDeny
	}
	o.step = stepAccessControl
	return o
}

// logDecision writes one record per login: who, from where, the answer and
// the rules that said so.
func (g *Gateway) logDecision(ctx context.Context, conn uint64, ip netip.Addr, login string, o outcome) {
	attrs := []slog.Attr{
		slog.Uint64("conn", conn),
		slog.String("proto", o.action.String()),
		slog.String("client", ip.String()),
		slog.String("login", truncate(login, 64)),
		slog.String("user", o.user.ID),
		slog.String("effect", o.effect.String()),
		slog.String("step", o.step.String()),
	}
	if o.step == stepNone || o.step == stepAccessControl {
		attrs = append(attrs, slog.String("reason", o.reason.String()), slog.Any("matched_rules", o.matched))
	}
	if o.err != nil {
		attrs = append(attrs, slog.String("error", o.err.Error()))
	}
	attrs = append(attrs, slog.Uint64("version", o.version))
	level := slog.LevelInfo
	if o.effect != policy.Allow {
		level = slog.LevelWarn
	}
	g.log.LogAttrs(ctx, level, "login", attrs...)
}

// truncate shortens s to at most n bytes for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:n], len(s))
}
