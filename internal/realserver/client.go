package realserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ClientTimeout bounds one client command (curl, swaks).
const ClientTimeout = 20 * time.Second

// Result is what a client command did.
type Result struct {
	// Code is the exit status (-1 when it did not run to its end).
	Code int
	// Output is its combined stdout and stderr.
	Output string
}

// Run runs a client command with ClientTimeout and returns its exit status
// and output; the test fails only when the command cannot be started.
func Run(t testing.TB, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ClientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return Result{0, out.String()}
	case errors.As(err, &ee):
		return Result{ee.ExitCode(), out.String()}
	}
	t.Fatalf("realserver: running %s: %v", name, err)
	return Result{}
}

// CurlMail logs in with curl to a mail URL ("imap://127.0.0.1:PORT/",
// "pop3://…") from the local address from (a 127.0.0.0/8 address the kernel
// routes over loopback), as user with Password. curl exits 0 when the login
// and a listing worked and 67 when the login was refused.
func CurlMail(t testing.TB, url, from, user string) Result {
	t.Helper()
	Require(t, "curl")
	return Run(t, "curl", "--silent", "--show-error", "--max-time", "15", "--interface", from,
		"--user", user+":"+Password, url)
}

// SwaksAuth sends one message with swaks to the SMTP server at addr from the
// local address from, authenticating as user with Password (AUTH PLAIN)
// when user is not "", to the recipient to. swaks exits 0 when the message
// was accepted, 28 when AUTH failed, 24 when RCPT was refused.
func SwaksAuth(t testing.TB, addr, from, user, to string) Result {
	t.Helper()
	Require(t, "swaks")
	args := []string{"--server", addr, "--local-interface", from, "--from", "sender@test.invalid",
		"--to", to, "--timeout", "15", "--helo", "client.test.invalid"}
	if user != "" {
		args = append(args, "--auth", "PLAIN", "--auth-user", user, "--auth-password", Password)
	}
	return Run(t, "swaks", args...)
}

var clientAddrs struct {
	sync.Mutex
	next map[string]int
}

// ClientAddr returns a client address in the /24 of base ("127.0.1.0") not
// returned before in this process: Dovecot delays every further failed
// login from an address that failed (its auth penalty, up to 15s), so each
// refused login in a test comes from a fresh address.
func ClientAddr(base string) string {
	clientAddrs.Lock()
	defer clientAddrs.Unlock()
	if clientAddrs.next == nil {
		clientAddrs.next = map[string]int{}
	}
	n := clientAddrs.next[base] + 10
	clientAddrs.next[base]++
	if n > 250 {
		panic("realserver: out of client addresses in " + base)
	}
	return base[:strings.LastIndexByte(base, '.')+1] + strconv.Itoa(n)
}

// String describes the result for a test message.
func (r Result) String() string { return fmt.Sprintf("exit %d:\n%s", r.Code, r.Output) }
