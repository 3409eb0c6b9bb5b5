package enforce

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Question is one login an enforcement point asks about (SEMANTICS E1).
type Question struct {
	// Protocol is the server's own name for the protocol ("imap", "pop3",
	// "submission", "smtp", "http", …); it only goes to the log.
	Protocol string
	// Client is the client's address. An IPv4-mapped IPv6 address is
	// unmapped; any other IPv6 address is denied (E2).
	Client netip.Addr
	// Login is the login name as the client gave it: a user ID, email, alias
	// or user name, resolved through the snapshot's directory (A18).
	Login string
	// Action is the WorkMail action the protocol maps to; 0 means the protocol
	// has none (POP3 without a configured mapping, ManageSieve): denied (E2).
	Action accessctl.Action
}

// Outcome says why an Answer was given. It goes to the log; clients see only
// allow or deny, the same for every kind of deny (E2: no user enumeration).
type Outcome uint8

// Outcomes, in the order Decide checks them.
const (
	// NoSnapshot: the source had no rules to decide from (E3).
	NoSnapshot Outcome = iota + 1
	// NotIPv4: the client address is not IPv4 or IPv4-mapped (E2).
	NotIPv4
	// NoAction: the protocol has no WorkMail action (E2).
	NoAction
	// UnknownUser: the login names no user of the directory (E2).
	UnknownUser
	// UserNotEnabled: the user's State is not ENABLED (E2).
	UserNotEnabled
	// InvalidRequest: the rules refused the request (A10–A12).
	InvalidRequest
	// ImplicitDeny: no rule matched (A6).
	ImplicitDeny
	// ExplicitDeny: a DENY rule matched (A6).
	ExplicitDeny
	// Allowed: an ALLOW rule matched and no DENY rule did (A6).
	Allowed
)

var outcomeNames = [...]string{
	NoSnapshot:     "no rules",
	NotIPv4:        "client not IPv4",
	NoAction:       "protocol has no WorkMail action",
	UnknownUser:    "unknown user",
	UserNotEnabled: "user not enabled",
	InvalidRequest: "invalid request",
	ImplicitDeny:   "implicit deny",
	ExplicitDeny:   "explicit deny",
	Allowed:        "explicit allow",
}

// String returns the outcome as the log shows it ("explicit deny", …).
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && outcomeNames[o] != "" {
		return outcomeNames[o]
	}
	return "invalid outcome"
}

// Answer is the decision on one Question. The zero Answer denies. Rules is
// reused by Decide (its capacity is kept), so a caller that keeps one Answer
// per connection decides without allocating.
type Answer struct {
	// Allow is true only for Outcome Allowed.
	Allow bool
	// Outcome says why.
	Outcome Outcome
	// UserID is the user the login resolved to ("" when it resolved to none).
	UserID string
	// Rules are the deciding rules' names (MatchedRules, A7): the ALLOW rules
	// for Allowed, the DENY rules for ExplicitDeny, empty otherwise. They go to
	// the log, never to the client.
	Rules []string
	// Revision is the revision of the snapshot decided from (0 for NoSnapshot).
	Revision uint64
}

// Decider answers Questions from a Source, as every enforcement point does:
// the snapshot is loaded once per question, the login resolved through its
// directory, unknown and not-ENABLED users denied (E2), then the
// access-control rules evaluated (A6), and the decision logged once.
//
// A Decider is safe for concurrent use; its fields must not change after the
// first Decide. A nil Source (the zero Decider) denies everything
// (NoSnapshot); a nil Log means slog.Default().
type Decider struct {
	Source Source
	Log    *slog.Logger
}

// Decide answers q into a, reusing a.Rules. Apart from the log record it does
// not allocate once a.Rules has room (TestDecideAllocs). It logs one record:
// INFO for an allow, WARN for a deny, with the protocol, client, login,
// resolved user, effect, outcome, deciding rules and snapshot revision.
func (d *Decider) Decide(ctx context.Context, q Question, a *Answer) {
	d.decide(q, a)
	d.log(ctx, q, a)
}

func (d *Decider) decide(q Question, a *Answer) {
	*a = Answer{Rules: a.Rules[:0]}
	var s Snapshot
	if d.Source != nil {
		s = d.Source.Snapshot()
	}
	if s == nil {
		a.Outcome = NoSnapshot
		return
	}
	a.Revision = s.Revision()
	ip := q.Client.Unmap()
	switch {
	case !ip.Is4():
		a.Outcome = NotIPv4
		return
	case q.Action == 0:
		a.Outcome = NoAction
		return
	}
	u, ok := s.Directory().Lookup(q.Login)
	if !ok {
		a.Outcome = UnknownUser
		return
	}
	a.UserID = u.ID
	if !u.Enabled() {
		a.Outcome = UserNotEnabled
		return
	}
	eff, rules, err := s.Policy().Evaluate(accessctl.Request{IP: ip, Action: q.Action, UserID: u.ID}, a.Rules)
	a.Rules = rules
	switch {
	case err != nil:
		a.Outcome = InvalidRequest
	case eff == policy.Allow:
		a.Allow, a.Outcome = true, Allowed
	case len(rules) == 0:
		a.Outcome = ImplicitDeny
	default:
		a.Outcome = ExplicitDeny
	}
}

func (d *Decider) logger() *slog.Logger {
	if d == nil || d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

func (d *Decider) log(ctx context.Context, q Question, a *Answer) {
	l := d.logger()
	level, effect := slog.LevelWarn, "DENY"
	if a.Allow {
		level, effect = slog.LevelInfo, "ALLOW"
	}
	if !l.Enabled(ctx, level) {
		return
	}
	l.LogAttrs(ctx, level, "decision",
		slog.String("protocol", logged(q.Protocol)),
		slog.String("client", q.Client.String()),
		slog.String("login", logged(q.Login)),
		slog.String("user", a.UserID),
		slog.String("effect", effect),
		slog.String("reason", a.Outcome.String()),
		slog.Any("rules", a.Rules),
		slog.Uint64("revision", a.Revision))
}

// answerPool holds Answers whose Rules keep their capacity, so that the HTTP
// enforcement points (which have no connection to keep one in) decide
// without allocating a rule list.
var answerPool = sync.Pool{New: func() any { return &Answer{Rules: make([]string, 0, 8)} }}

// maxLogged bounds a client-supplied string in a log record (a path, a
// method, a login, a protocol): such a value may be as long as the server's
// header limit allows (net/http: 1 MiB).
const maxLogged = 512

// logged returns s, or for a longer one its first maxLogged bytes (moved
// back to a rune start, by at most three bytes) followed by "…" and s's
// length. It allocates only when it cuts.
func logged(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	cut := maxLogged
	for cut > maxLogged-utf8.UTFMax+1 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
