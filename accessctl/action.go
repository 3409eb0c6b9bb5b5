package accessctl

import (
	"fmt"
	"strings"

	"github.com/wmpolicy/wmpolicy/internal/ruleset"
	"github.com/wmpolicy/wmpolicy/internal/suggest"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Action is one of the seven WorkMail access protocols (SEMANTICS A11). The zero
// Action is not valid: it is what an unset field holds, and evaluating it is an
// InvalidParameterException.
type Action uint8

// The WorkMail actions, in the order the API documents them.
const (
	ActiveSync Action = iota + 1
	AutoDiscover
	EWS
	IMAP
	SMTP
	WindowsOutlook
	WebMail
)

// NumActions is the number of valid actions; valid actions are 1..NumActions.
const NumActions = 7

// actionNames are the API names, by Action (typed with this package's
// NumActions, so that the two constants cannot drift apart).
var actionNames [NumActions + 1]string = ruleset.ActionNames

// Actions returns every valid action, in API order.
func Actions() []Action {
	return []Action{ActiveSync, AutoDiscover, EWS, IMAP, SMTP, WindowsOutlook, WebMail}
}

// String returns the action's API name ("EWS"), or "" for an invalid action.
func (a Action) String() string {
	if a.Valid() {
		return actionNames[a]
	}
	return ""
}

// Valid reports whether a is one of the seven actions.
func (a Action) Valid() bool { return a >= 1 && a <= NumActions }

// ParseAction parses an action name exactly and case-sensitively (SEMANTICS A11).
// Any other string is an InvalidParameterException whose message suggests the
// closest valid action ("did you mean IMAP?"). It does not allocate on success.
func ParseAction(s string) (Action, error) {
	for a := Action(1); a <= NumActions; a++ {
		if actionNames[a] == s {
			return a, nil
		}
	}
	return 0, &policy.Error{Code: policy.InvalidParameterException, Message: invalidActionMessage(s)}
}

func invalidActionMessage(s string) string {
	msg := fmt.Sprintf("invalid action %q: valid actions are %s", truncate(s, 64), strings.Join(actionNames[1:], ", "))
	if best := suggest.Closest(s, actionNames[1:]); best != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", best)
	}
	return msg
}

// MarshalText writes the action's API name; an invalid action is an error.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, &policy.Error{Code: policy.InvalidParameterException, Message: "invalid action"}
	}
	return []byte(a.String()), nil
}

// UnmarshalText parses an action name as [ParseAction] does.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
