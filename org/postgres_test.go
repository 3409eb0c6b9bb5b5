package org

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestPostgresSuite runs the store's SEMANTICS tests and its rapid state
// machine unchanged over PostgreSQL (SEMANTICS G1–G4: the same operations,
// answers and errors over the shared backend): it re-executes this test
// binary with pgMode set, in which testStore and runMachine open every
// store over a fresh schema of the test server (the Reopen step reopens the
// same schema). The subprocess runs 50 state-machine checks to keep CI short.
func TestPostgresSuite(t *testing.T) {
	pgURL(t)
	if pgMode {
		t.Skip("already the PostgreSQL run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^(TestSemantics.*|TestStateMachine|TestConcurrentReadersSeeWholeSnapshots|TestEvaluateNoAllocs|TestImportAWSCLIOutput)$",
		"-test.count=1", "-test.timeout=170s", "-rapid.checks=50")
	cmd.Env = append(os.Environ(), pgBackendEnv+"=postgres")
	out, err := cmd.CombinedOutput()
	if testing.Verbose() || err != nil {
		t.Logf("%s", out)
	}
	if err != nil {
		t.Fatalf("the suite over PostgreSQL failed: %v", err)
	}
}
