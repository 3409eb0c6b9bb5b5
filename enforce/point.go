package enforce

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// DenyMessage is what every enforcement point tells a refused client, the
// same text whatever the reason (E2: unknown and disabled users are answered
// exactly like a rule's DENY; rule names never reach clients).
const DenyMessage = "Access denied by policy"

// decideFunc is how an enforcement point decides: Decider.Decide, or a
// constant in the load benchmarks that compare the protocol's own cost.
type decideFunc func(ctx context.Context, q Question, a *Answer)

func checkDecider(d *Decider) error {
	if d == nil || d.Source == nil {
		return errors.New("enforce: a Decider with a Source is required")
	}
	return nil
}

// protocolAction maps a mail protocol name, as Dovecot and nginx send it
// (case-insensitively), to its WorkMail action (E4, E6): imap → IMAP, smtp
// and submission → SMTP, pop3 → the operator's mapping (0 when none: E2),
// anything else → 0 (denied: E2).
func protocolAction(protocol string, pop3 accessctl.Action) accessctl.Action {
	switch {
	case strings.EqualFold(protocol, "imap"):
		return accessctl.IMAP
	case strings.EqualFold(protocol, "smtp"), strings.EqualFold(protocol, "submission"):
		return accessctl.SMTP
	case strings.EqualFold(protocol, "pop3"):
		return pop3
	}
	return 0
}

func checkPOP3(a accessctl.Action) error {
	if a != 0 && !a.Valid() {
		return fmt.Errorf("enforce: POP3 mapping: invalid action %d", a)
	}
	return nil
}

// secret is an optional shared-secret header: when name is set, a request
// must carry it with exactly value (compared in constant time: E4).
type secret struct {
	name  string
	value []byte
}

func newSecret(name, value string) (secret, error) {
	switch {
	case name == "" && value == "":
		return secret{}, nil
	case name == "":
		return secret{}, errors.New("enforce: a secret value needs a header name")
	case value == "":
		return secret{}, errors.New("enforce: a secret header needs a non-empty value")
	case strings.ContainsAny(name, " \t\r\n:"):
		return secret{}, fmt.Errorf("enforce: invalid secret header name %q", name)
	}
	return secret{name: name, value: []byte(value)}, nil
}

// ok reports whether the request's values of the header hold the secret: one
// value, equal in constant time. Without a configured secret it is true.
func (s *secret) ok(values []string) bool {
	if s.name == "" {
		return true
	}
	if len(values) != 1 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(values[0])), s.value) == 1
}
