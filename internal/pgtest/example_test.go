package pgtest_test

import (
	"fmt"
	"os"

	"github.com/wmpolicy/wmpolicy/internal/pgtest"
)

// recorder is a stand-in for *testing.T that prints what happens to it.
type recorder struct{}

func (recorder) Helper()           {}
func (recorder) Fatal(args ...any) { fmt.Println("fatal:", fmt.Sprint(args...)) }
func (recorder) Skip(args ...any)  { fmt.Println("skip:", fmt.Sprint(args...)) }
func (recorder) Cleanup(func())    {}

// A test asks for the server's URL; .ci/postgres.sh sets it. (This example
// sets the variable itself, and restores it.)
func ExampleURL() {
	old, had := os.LookupEnv(pgtest.EnvURL)
	defer func() {
		if had {
			os.Setenv(pgtest.EnvURL, old)
		} else {
			os.Unsetenv(pgtest.EnvURL)
		}
	}()
	os.Setenv(pgtest.EnvURL, "postgres://wmpolicy@127.0.0.1:5432/postgres?sslmode=disable")
	fmt.Println(pgtest.URL(recorder{}))
	// Output: postgres://wmpolicy@127.0.0.1:5432/postgres?sslmode=disable
}
