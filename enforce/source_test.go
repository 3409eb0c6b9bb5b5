package enforce

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

var officeBob = Question{"imap", netip.MustParseAddr("192.0.2.10"), "bob", accessctl.IMAP}

// TestFileSourceReload: a valid change is published with the next revision;
// an invalid change (bad JSON, a rule naming an unknown field, an unreadable
// file) is rejected with a *FileError naming the file, the rules in force
// stay, and fixing the file applies again. Touching a file without changing
// it is no reload.
func TestFileSourceReload(t *testing.T) {
	var logs logBuffer
	src, rulesPath, usersPath := exampleSource(t, jsonLog(&logs))
	d := &Decider{Source: src, Log: discardLog()}
	ask := func() Answer {
		var a Answer
		d.Decide(context.Background(), officeBob, &a)
		return a
	}
	if a := ask(); !a.Allow || a.Revision != 1 {
		t.Fatalf("initial: %+v", a)
	}

	// A rule that denies IMAP to everyone: applied as revision 2.
	orig, _ := os.ReadFile(rulesPath)
	denyIMAP := strings.Replace(string(orig), `"Name": "default",`, `"Name": "default", "Actions": ["SMTP"],`, 1)
	if err := os.WriteFile(rulesPath, []byte(denyIMAP), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := src.Check(); err != nil {
		t.Fatalf("Check after a valid change: %v", err)
	}
	if a := ask(); a.Allow || a.Outcome != ImplicitDeny || a.Revision != 2 {
		t.Fatalf("after the change: %+v, want an implicit deny at revision 2", a)
	}
	if st := src.Status(); st.Revision != 2 || st.Applied != 1 || st.Rejected != 0 || st.LastError != nil {
		t.Fatalf("status %+v", st)
	}

	for _, bad := range []struct{ name, data string }{
		{"truncated JSON", `{"Rules": [`},
		{"unknown field", strings.Replace(string(orig), `"Effect": "DENY",`, `"Effect": "DENY", "Colour": "red",`, 1)},
		{"invalid CIDR", strings.Replace(string(orig), "192.0.2.0/24", "192.0.2.0/33", 1)},
	} {
		changed := src.Changed()
		if err := os.WriteFile(rulesPath, []byte(bad.data), 0o644); err != nil {
			t.Fatal(err)
		}
		err := src.Check()
		var fe *FileError
		if !errors.As(err, &fe) || fe.File != rulesPath {
			t.Fatalf("%s: Check = %v, want a *FileError naming %s", bad.name, err, rulesPath)
		}
		select {
		case <-changed:
		default:
			t.Errorf("%s: Changed not closed by a rejected reload", bad.name)
		}
		if a := ask(); a.Allow || a.Revision != 2 {
			t.Fatalf("%s: the rules in force changed: %+v", bad.name, a)
		}
	}
	if st := src.Status(); st.Revision != 2 || st.Rejected != 3 || st.LastError == nil {
		t.Fatalf("status after rejected reloads %+v", st)
	}
	if !strings.Contains(logs.String(), `"msg":"reload rejected: keeping the rules in force"`) {
		t.Errorf("no rejection in the log:\n%s", logs.String())
	}

	// A missing users file is a read error; restoring both files applies.
	os.Remove(usersPath)
	if err := src.Check(); err == nil {
		t.Fatal("Check with a missing users file: nil error")
	}
	copyFile(t, "testdata/org/users.json", usersPath)
	if err := os.WriteFile(rulesPath, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := src.Check(); err != nil {
		t.Fatalf("Check after restoring: %v", err)
	}
	if a := ask(); !a.Allow || a.Revision != 3 {
		t.Fatalf("after restoring: %+v, want allow at revision 3", a)
	}
	// Same bytes again, newer mtime: no reload.
	now := time.Now().Add(time.Minute)
	os.Chtimes(rulesPath, now, now)
	src.Check()
	if st := src.Status(); st.Revision != 3 {
		t.Fatalf("touching the file reloaded: %+v", st)
	}
}

// TestFileSourceWatch: Watch polls the files and publishes a change without
// being asked.
func TestFileSourceWatch(t *testing.T) {
	src, rulesPath, _ := exampleSource(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go src.Watch(ctx, 10*time.Millisecond)
	changed := src.Changed()
	orig, _ := os.ReadFile(rulesPath)
	os.WriteFile(rulesPath, []byte(strings.Replace(string(orig), "Default WorkMail Rule", "Default rule", 1)), 0o644)
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not reload within 10s")
	}
	if st := src.Status(); st.Revision != 2 {
		t.Fatalf("status %+v", st)
	}
}

// TestNewFileSourceInvalid: invalid files at start are an error that names
// the file; no source is returned.
func TestNewFileSourceInvalid(t *testing.T) {
	dir := t.TempDir()
	rules, users := dir+"/rules.json", dir+"/users.json"
	copyFile(t, "testdata/org/users.json", users)
	os.WriteFile(rules, []byte(`{"Rules":[{"Name":"x","Effect":"MAYBE"}]}`), 0o644)
	src, err := NewFileSource(FileSourceOptions{RulesFile: rules, UsersFile: users, Log: discardLog()})
	var fe *FileError
	if src != nil || !errors.As(err, &fe) || fe.File != rules || len(policy.Errors(fe.Err)) == 0 {
		t.Fatalf("NewFileSource = %v, %v; want a *FileError for %s with its problems", src, err, rules)
	}
	if _, err := NewFileSource(FileSourceOptions{RulesFile: rules}); err == nil {
		t.Fatal("NewFileSource without a users file: nil error")
	}
}

// TestOrgSourceFollowsStore: an OrgSource sees every mutation of its
// organization at once, and denies everything once it is deleted (E3).
func TestOrgSourceFollowsStore(t *testing.T) {
	s, err := org.Open(org.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "enforce-test"})
	if err != nil {
		t.Fatal(err)
	}
	id := out.OrganizationId
	if _, err := NewOrgSource(s, "m-00000000000000000000000000000000"); err == nil {
		t.Fatal("NewOrgSource of an unknown organization: nil error")
	}
	src, err := NewOrgSource(s, id)
	if err != nil {
		t.Fatal(err)
	}
	d := &Decider{Source: src, Log: discardLog()}
	ask := func() Answer {
		var a Answer
		d.Decide(context.Background(), officeBob, &a)
		return a
	}
	if a := ask(); a.Outcome != UnknownUser {
		t.Fatalf("empty organization: %+v", a)
	}
	if _, err := s.PutUser(context.Background(), org.PutUserInput{OrganizationId: id, User: org.User{Id: bobID, Name: "bob", Email: "bob@example.com", State: "ENABLED"}}); err != nil {
		t.Fatal(err)
	}
	a := ask()
	if !a.Allow {
		t.Fatalf("after PutUser: %+v, want allowed by the organization's default rule", a)
	}
	rev := a.Revision
	if _, err := s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{OrganizationId: id, Name: "no-imap", Effect: policy.Deny,
		Description: "no IMAP", Actions: []string{"IMAP"}}); err != nil {
		t.Fatal(err)
	}
	if a := ask(); a.Allow || a.Outcome != ExplicitDeny || a.Revision <= rev {
		t.Fatalf("after PutAccessControlRule: %+v, want an explicit deny at a revision above %d", a, rev)
	}
	del := true
	if _, err := s.DeleteOrganization(context.Background(), org.DeleteOrganizationInput{OrganizationId: id, DeleteDirectory: &del, ForceDelete: true}); err != nil {
		t.Fatal(err)
	}
	if a := ask(); a.Allow || a.Outcome != NoSnapshot {
		t.Fatalf("after DeleteOrganization: %+v, want NoSnapshot deny", a)
	}
}
