package org

import (
	"os"

	"github.com/wmpolicy/wmpolicy/internal/pgtest"
)

// The PostgreSQL tests need a server: WMPOLICY_TEST_POSTGRES is its URL, set
// by .ci/postgres.sh (which starts a throwaway cluster). Without it they
// skip, naming the script, except under CI, where they fail.
const pgEnv = pgtest.EnvURL

// pgBackendEnv, set to "postgres" by TestPostgresSuite in the test binary it
// re-executes, makes testStore and the state machine run over PostgreSQL.
const pgBackendEnv = "WMPOLICY_ORG_TEST_BACKEND"

var pgMode = os.Getenv(pgBackendEnv) == "postgres"

// pgURL returns the test server's URL, or skips (fails under CI).
func pgURL(t pgtest.TB) string {
	t.Helper()
	return pgtest.URL(t)
}

// freshSchema creates an empty schema on the test server and returns a URL
// whose connections use it; the schema is dropped at cleanup. The test
// shares the server (pgtest.Use) until then.
func freshSchema(t pgtest.TB, base string) string {
	t.Helper()
	return pgtest.FreshSchema(t, base)
}

// pgStoreURL returns a fresh schema's URL in pgMode, else "".
func pgStoreURL(t pgtest.TB) string {
	if !pgMode {
		return ""
	}
	u := os.Getenv(pgEnv)
	if u == "" {
		t.Fatal(pgBackendEnv + " is set without " + pgEnv)
	}
	return freshSchema(t, u)
}
