package enforce

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The example organization (testdata/org, a copy of examples/org):
//
//	alice  admin: DENY outside 192.0.2.0/24 and 10.8.0.0/16 (admins-office-only)
//	bob    IMAP and SMTP only from 192.0.2.0/24 and 10.8.0.0/16 (legacy-protocols-office-only)
//	carol  contractor: WebMail only (contractors-webmail-only)
//	dave   DISABLED
//	198.51.100.0/24 and 203.0.113.128/25 denied to all (block-abusive-networks)
const (
	aliceID = "S-1-1-11-1234567890-1234567890-1234567890-1001"
	bobID   = "S-1-1-11-1234567890-1234567890-1234567890-1002"
	daveID  = "S-1-1-11-1234567890-1234567890-1234567890-1004"
)

// exampleSource returns a FileSource over copies of the example
// organization's files in a temporary directory, and the copies' paths.
func exampleSource(t testing.TB, log *slog.Logger) (src *FileSource, rules, users string) {
	t.Helper()
	dir := t.TempDir()
	rules, users = filepath.Join(dir, "rules.json"), filepath.Join(dir, "users.json")
	copyFile(t, "testdata/org/rules.json", rules)
	copyFile(t, "testdata/org/users.json", users)
	if log == nil {
		log = discardLog()
	}
	src, err := NewFileSource(FileSourceOptions{RulesFile: rules, UsersFile: users, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return src, rules, users
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logBuffer collects JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func jsonLog(b *logBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }
