package org

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL tests need a server: WMPOLICY_TEST_POSTGRES is its URL, set
// by .ci/postgres.sh (which starts a throwaway cluster). Without it they
// skip, naming the script, except under CI, where they fail.
const pgEnv = "WMPOLICY_TEST_POSTGRES"

// pgBackendEnv, set to "postgres" by TestPostgresSuite in the test binary it
// re-executes, makes testStore and the state machine run over PostgreSQL.
const pgBackendEnv = "WMPOLICY_ORG_TEST_BACKEND"

var pgMode = os.Getenv(pgBackendEnv) == "postgres"

// cleaner is what schema helpers need of a *testing.T or *rapid.T.
type cleaner interface {
	fataler
	Cleanup(func())
}

// pgURL returns the test server's URL, or skips (fails under CI).
func pgURL(t interface {
	Helper()
	Fatal(...any)
	Skip(...any)
}) string {
	t.Helper()
	u := os.Getenv(pgEnv)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(pgEnv + " is not set: CI must run the PostgreSQL tests (.ci/run starts a server with .ci/postgres.sh)")
		}
		t.Skip("no PostgreSQL: run .ci/postgres.sh go test ./org/ (it starts a throwaway cluster and sets " + pgEnv + ")")
	}
	return u
}

// freshSchema creates an empty schema on the test server and returns a URL
// whose connections use it; the schema is dropped at cleanup.
func freshSchema(t cleaner, base string) string {
	t.Helper()
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
		if conn, err := pgx.Connect(ctx, base); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	return withSearchPath(t, base, schema)
}

func withSearchPath(t fataler, base, schema string) string {
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgStoreURL returns a fresh schema's URL in pgMode, else "".
func pgStoreURL(t cleaner) string {
	if !pgMode {
		return ""
	}
	u := os.Getenv(pgEnv)
	if u == "" {
		t.Fatal(pgBackendEnv + " is set without " + pgEnv)
	}
	return freshSchema(t, u)
}
