// Package realserver starts real servers for end-to-end tests: the wmpolicy
// binary ('wmpolicy serve'), nginx, Dovecot and Postfix, each as a
// non-daemon child process with its own temporary configuration and data
// directory, listening on loopback ports the harness picks, and stopped at
// test cleanup.
//
// A test that needs a server calls Require first. In CI (the environment
// variable CI is set) a missing server fails the test; elsewhere the test is
// skipped with a message naming InstallScript, which installs every package
// the end-to-end tests use.
//
// Nothing here reaches beyond 127.0.0.0/8. The helpers are for tests only:
// they report problems through testing.TB and never return errors.
package realserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallScript is the script, relative to the repository root, that
// installs the Debian packages of every real server the tests start and then
// runs the end-to-end tests.
const InstallScript = ".ci/realservers.sh"

// StartTimeout bounds how long a server may take to start listening.
const StartTimeout = 20 * time.Second

// InCI reports whether the tests run in CI (the environment variable CI is
// set and not "false"), where a missing server is a failure, not a skip.
func InCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "false" && v != "0"
}

// Require returns the path of the program named bin (searched in PATH, then
// in /usr/sbin and /usr/lib/dovecot, where Debian puts servers). When it is
// missing the test fails in CI and is skipped elsewhere, naming
// InstallScript.
func Require(t testing.TB, bin string) string {
	t.Helper()
	if p, err := exec.LookPath(bin); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, bin)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, fmt.Sprintf("%s is not installed", bin))
	return ""
}

// Missing fails the test in CI and skips it elsewhere, saying what is missing
// and naming InstallScript.
func Missing(t testing.TB, what string) {
	t.Helper()
	missing(t, fmt.Sprintf("%s: run %s (as root) to install the real servers the end-to-end tests need", what, InstallScript))
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatal(msg + " [CI is set: a missing server is a failure]")
		return
	}
	t.Skip(msg)
}

// RequireRoot fails in CI and skips elsewhere unless the test runs as root
// (Postfix's master process must start as root).
func RequireRoot(t testing.TB, server string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, fmt.Sprintf("%s must be started as root: run the tests as root (%s does)", server, InstallScript))
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("realserver: picking a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns "127.0.0.1:PORT" with a port from FreePort.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}

// WaitPort waits until something accepts TCP connections at addr, or fails
// the test after StartTimeout. If p is not nil and exits first, the test
// fails with its output.
func WaitPort(t testing.TB, p *Process, addr string) {
	t.Helper()
	deadline := time.Now().Add(StartTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p != nil && p.Exited() {
			t.Fatalf("realserver: %s exited before listening on %s:\n%s", p.Name, addr, p.Output())
		}
		if time.Now().After(deadline) {
			out := ""
			if p != nil {
				out = p.Output()
			}
			t.Fatalf("realserver: nothing listens on %s after %v: %v\n%s", addr, StartTimeout, err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Process is a server started by the harness. It is stopped at test cleanup
// (SIGTERM, then SIGKILL to its process group after five seconds); its
// combined output is logged when the test failed.
type Process struct {
	// Name is the server's name in messages ("nginx", "dovecot", …).
	Name string
	// Dir is the server's temporary directory (configuration, data, logs).
	Dir string

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // set before done is closed

	stopOnce sync.Once
	// beforeStop, when set, asks the server to stop in its own way (a
	// server whose master leaves the process group, like Postfix's).
	beforeStop func()
}

// Start runs argv as a child process in its own process group and registers
// its stop with t.Cleanup. The output goes to an in-memory buffer (Output)
// and, line by line, to onLine when it is not nil.
func Start(t testing.TB, name, dir string, onLine func(string), argv ...string) *Process {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A server's children may keep the output pipe open after it ended.
	cmd.WaitDelay = 2 * time.Second
	out := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &Process{Name: name, Dir: dir, cmd: cmd, out: out, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("realserver: starting %s: %v", name, err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			out.WriteLine(line)
			if onLine != nil {
				onLine(line)
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		// done means every line has been handed to onLine, so a test
		// that waited for the end sees the last records.
		<-read
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("realserver: %s output:\n%s", name, p.Output())
		}
	})
	return p
}

// Pid returns the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output returns everything the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to d for the process to end and returns its exit error
// (nil for exit status 0); it returns an error if it is still running.
func (p *Process) Wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		return fmt.Errorf("%s still running after %v", p.Name, d)
	}
}

// Stop ends the process: SIGTERM, and after five seconds SIGKILL to its
// process group. It is idempotent and waits for the end.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		if p.beforeStop != nil {
			p.beforeStop()
		}
		if p.Exited() {
			return
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	// Children the server left in its group (a Postfix daemon, a Dovecot
	// login process) must not outlive the test.
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	b.buf.WriteString(s)
	b.buf.WriteByte('\n')
	b.mu.Unlock()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// RepoRoot returns the directory of the repository's go.mod, found from the
// working directory upwards (a test's working directory is its package).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("realserver: %v", err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/wmpolicy/wmpolicy\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("realserver: no wmpolicy go.mod above the working directory")
		}
		dir = parent
	}
}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// Binary builds cmd/wmpolicy once per test process and returns the path of
// the binary. The binary is removed by Cleanup (call it from TestMain).
func Binary(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "wmpolicy-realserver-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "wmpolicy")
		cmd := exec.Command("go", "build", "-o", build.bin, "./cmd/wmpolicy")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build ./cmd/wmpolicy: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatalf("realserver: %v", build.err)
	}
	return build.bin
}

// Cleanup removes what the harness built once per process (the wmpolicy
// binary). Call it from TestMain after m.Run.
func Cleanup() {
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// Wmpolicy is a running 'wmpolicy serve'.
type Wmpolicy struct {
	*Process

	mu      sync.Mutex
	addrs   map[string]string // listener name → address, from the "listening" records
	records []map[string]any  // every JSON log record
	changed chan struct{}     // closed and replaced at every record
	serving chan struct{}     // closed at the "serving" record
	served  bool
}

// StartWmpolicy builds the binary (once) and runs 'wmpolicy serve --log json'
// with args. Listener flags (--dovecot ADDR, …) may use port 0: StartWmpolicy
// waits for serve's "serving" record, logged once every listener listens,
// and Addr returns each listener's actual address from its "listening"
// record. The test fails if serve exits first or does not serve within
// StartTimeout.
func StartWmpolicy(t testing.TB, args ...string) *Wmpolicy {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	w := &Wmpolicy{addrs: map[string]string{}, changed: make(chan struct{}), serving: make(chan struct{})}
	argv := append([]string{bin, "serve", "--log", "json"}, args...)
	w.Process = Start(t, "wmpolicy", dir, w.onLine, argv...)
	select {
	case <-w.serving:
		return w
	case <-w.done:
		t.Fatalf("realserver: wmpolicy serve exited before serving (%v):\n%s", w.err, w.Output())
	case <-time.After(StartTimeout):
		t.Fatalf("realserver: wmpolicy serve did not log serving within %v:\n%s", StartTimeout, w.Output())
	}
	return nil
}

func (w *Wmpolicy) onLine(line string) {
	var rec map[string]any
	if json.Unmarshal([]byte(line), &rec) != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if rec["msg"] == "serving" && !w.served {
		w.served = true
		close(w.serving)
	}
	if rec["msg"] == "listening" {
		if name, ok := rec["listener"].(string); ok {
			if addr, ok := rec["addr"].(string); ok {
				w.addrs[name] = addr
			}
		}
	}
	w.records = append(w.records, rec)
	close(w.changed)
	w.changed = make(chan struct{})
}

// Addr returns the address the named listener listens on, from its
// "listening" log record; "" if it has none.
func (w *Wmpolicy) Addr(listener string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addrs[listener]
}

// Records returns the JSON log records written so far.
func (w *Wmpolicy) Records() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.records...)
}

// WaitRecord waits up to d for a log record, written after the first from
// records already seen (from = len(Records()) before the action), for which
// match returns true, and returns it; the test fails otherwise.
func (w *Wmpolicy) WaitRecord(t testing.TB, from int, d time.Duration, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		w.mu.Lock()
		for _, r := range w.records[min(from, len(w.records)):] {
			if match(r) {
				w.mu.Unlock()
				return r
			}
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("realserver: no wmpolicy log record %s within %v:\n%s", what, d, w.Output())
			return nil
		}
	}
}
