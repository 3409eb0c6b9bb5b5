package enforce_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/enforce"
)

// A FileSource follows the rules and users files; a Decider answers logins
// from it, and the enforcement points put it in front of real servers. Here
// a Dovecot policy request is answered in Dovecot's protocol.
func Example() {
	src, err := enforce.NewFileSource(enforce.FileSourceOptions{
		RulesFile: "testdata/org/rules.json",
		UsersFile: "testdata/org/users.json",
		Log:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := &enforce.Decider{Source: src, Log: slog.New(slog.DiscardHandler)}

	// The decision itself: bob reads mail over IMAP from home.
	var a enforce.Answer
	d.Decide(context.Background(), enforce.Question{
		Protocol: "imap",
		Client:   netip.MustParseAddr("203.0.113.7"),
		Login:    "bob@example.com",
		Action:   accessctl.IMAP,
	}, &a)
	fmt.Println(a.Allow, a.Outcome, a.Rules)

	// The same question as Dovecot asks it (auth_policy_server_url).
	dovecot, err := enforce.NewDovecotPolicy(d, enforce.DovecotOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, remote := range []string{"192.0.2.10", "203.0.113.7"} {
		body := `{"login":"bob","remote":"` + remote + `","protocol":"imap"}`
		rec := httptest.NewRecorder()
		dovecot.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?command=allow", strings.NewReader(body)))
		out, _ := io.ReadAll(rec.Body)
		fmt.Println(remote, string(out))
	}
	// Output:
	// false explicit deny [legacy-protocols-office-only]
	// 192.0.2.10 {"status":0}
	// 203.0.113.7 {"status":-1,"msg":"Access denied by policy"}
}
