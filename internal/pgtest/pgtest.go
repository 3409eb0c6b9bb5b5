// Package pgtest gives the tests of several packages one PostgreSQL server,
// the throwaway cluster .ci/postgres.sh starts (its URL in
// WMPOLICY_TEST_POSTGRES): the URL (skipping without it, failing under CI),
// a fresh schema per test, and a lock that keeps a test which terminates
// connections or restarts the server apart from every other test using the
// server, in any test binary (go test runs packages in parallel).
//
// It is imported by tests only.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that holds the test server's URL.
const EnvURL = "WMPOLICY_TEST_POSTGRES"

// TB is what pgtest needs of a *testing.T, *testing.B or *rapid.T.
type TB interface {
	Helper()
	Fatal(args ...any)
	Skip(args ...any)
	Cleanup(func())
}

// URL returns the test server's URL. Without one it skips the test, naming
// the script that starts a server; under CI (CI set) it fails instead.
func URL(t TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(EnvURL + " is not set: CI must run the PostgreSQL tests (.ci/run starts a server with .ci/postgres.sh)")
		}
		t.Skip("no PostgreSQL: run the tests under .ci/postgres.sh (e.g. .ci/postgres.sh go test ./org/), which starts a throwaway cluster and sets " + EnvURL)
	}
	return u
}

// FreshSchema creates an empty schema on the server base and returns a URL
// whose connections use it (search_path); the schema is dropped at cleanup.
// The test holds the shared lock (Use) until then.
func FreshSchema(t TB, base string) string {
	t.Helper()
	Use(t, base)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "wmt_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var (
	mu        sync.Mutex
	exclusive int // Exclusive locks this process holds
)

// EnvLock names the variable that holds the lock file's path
// (.ci/postgres.sh puts it in the cluster's directory, removed with it);
// without it the lock file is in os.TempDir, named after the server's URL.
const EnvLock = "WMPOLICY_TEST_POSTGRES_LOCK"

// lockPath is the lock file of server base, shared by every test process.
func lockPath(base string) string {
	if p := os.Getenv(EnvLock); p != "" {
		return p
	}
	h := sha256.Sum256([]byte(base))
	return filepath.Join(os.TempDir(), "wmpolicy-pgtest-"+hex.EncodeToString(h[:8])+".lock")
}

// Use takes the server's lock shared until the test's cleanup: any number of
// tests use the server at once, but none while a test holds it exclusively.
// Within a process that holds it exclusively, Use does nothing.
func Use(t TB, base string) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if exclusive > 0 {
		return
	}
	take(t, base, false)
}

// Exclusive takes the server's lock exclusively until the test's cleanup,
// waiting for every other test using the server (in any process) to finish:
// for a test that terminates every connection or restarts the server. Call
// it before anything else of the test uses the server.
func Exclusive(t TB, base string) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	exclusive++
	take(t, base, true)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		exclusive--
	})
}

func take(t TB, base string, excl bool) {
	f, err := os.OpenFile(lockPath(base), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := lock(f, excl); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}
