package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/awsapi"
)

// syncBuffer is a bytes.Buffer safe for the serve goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRE = regexp.MustCompile(`addr"?[=:]"?(127\.0\.0\.1:[0-9]+)`)

// startServe runs 'wmpolicy serve args…' in process until stop sends it
// SIGTERM; it returns the API's address and the log.
func startServe(t *testing.T, args ...string) (addr string, log *syncBuffer, stop func() int) {
	t.Helper()
	sigc := make(chan chan<- os.Signal, 1)
	serveNotify = func(c chan<- os.Signal, _ ...os.Signal) { sigc <- c }
	t.Cleanup(func() { serveNotify = signal.Notify })
	log = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(append([]string{"serve"}, args...), nil, io.Discard, log) }()
	var sig chan<- os.Signal
	select {
	case sig = <-sigc:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, log.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start: %s", log.String())
	}
	m := listeningRE.FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no listening line: %s", log.String())
	}
	return m[1], log, func() int {
		sig <- syscall.SIGTERM
		select {
		case code := <-done:
			return code
		case <-time.After(15 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
}

// apiCall sends one signed request (key may be zero: unsigned).
func apiCall(t *testing.T, addr string, key awsapi.Key, op, body string) (int, string) {
	t.Helper()
	r, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", awsapi.ContentType)
	r.Header.Set("X-Amz-Target", awsapi.TargetPrefix+op)
	if key.AccessKeyId != "" {
		awsapi.SignRequest(r, []byte(body), key.AccessKeyId, key.SecretAccessKey, "us-east-1", time.Now())
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// SEMANTICS F3: 'serve --api' generates a key on first start, verifies
// signatures, logs one line per request without the secret, and stops on
// SIGTERM with exit 0; what it acknowledged is in the state directory.
func TestServeAPI(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	addr, log, stop := startServe(t, "--state", state, "--api", "127.0.0.1:0", "--generate-key", "--log", "json")
	data, err := os.ReadFile(filepath.Join(state, apiCredentialsName))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Keys []awsapi.Key }
	if err := json.Unmarshal(data, &f); err != nil || len(f.Keys) != 1 {
		t.Fatalf("credentials file %s: %v", data, err)
	}
	key := f.Keys[0]
	if st, body := apiCall(t, addr, awsapi.Key{}, "ListOrganizations", "{}"); st != 403 || !strings.Contains(body, "MissingAuthenticationTokenException") {
		t.Fatalf("unsigned: %d %s", st, body)
	}
	st, body := apiCall(t, addr, key, "CreateOrganization", `{"Alias":"served"}`)
	if st != 200 {
		t.Fatalf("CreateOrganization: %d %s", st, body)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, log.String())
	}
	if strings.Contains(log.String(), key.SecretAccessKey) {
		t.Fatal("the log holds the secret")
	}
	if n := strings.Count(log.String(), `"msg":"api"`); n != 2 {
		t.Fatalf("%d request lines: %s", n, log.String())
	}
	// Restarted (the key file exists now), the organization is there.
	addr, _, stop = startServe(t, "--state", state, "--api", "127.0.0.1:0", "--generate-key")
	defer stop()
	if st, body := apiCall(t, addr, key, "ListOrganizations", "{}"); st != 200 || !strings.Contains(body, `"Alias":"served"`) {
		t.Fatalf("after restart: %d %s", st, body)
	}
}

// SEMANTICS F3: serve refuses --insecure-no-auth off loopback, a missing
// credentials file, a credentials file others may read, and --api without
// --state.
func TestServeAPIRefusals(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	loose := filepath.Join(dir, "loose.json")
	os.WriteFile(loose, []byte(`{"Keys":[{"AccessKeyId":"WMPTESTKEY0000000001","SecretAccessKey":"0123456789abcdefXYZ"}]}`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rules", "../../examples/org/rules.json", "--users", "../../examples/org/users.json", "--api", "127.0.0.1:0"}, "needs --state"},
		{[]string{"--state", state, "--api", "0.0.0.0:0", "--insecure-no-auth"}, "--insecure-no-auth is refused"},
		{[]string{"--state", state, "--api", "127.0.0.1:0"}, "--generate-key"},
		{[]string{"--state", state, "--api", "127.0.0.1:0", "--credentials", loose}, "0644"},
		{[]string{"--state", state, "--api", "127.0.0.1:0", "--tls-cert", "x.pem"}, "go together"},
	} {
		var stderr bytes.Buffer
		if code := run(append([]string{"serve"}, tc.args...), nil, io.Discard, &stderr); code != exitInvalid {
			t.Errorf("serve %v: exit %d, want %d; stderr: %s", tc.args, code, exitInvalid, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("serve %v: stderr %q does not say %q", tc.args, stderr.String(), tc.want)
		}
	}
	// On loopback, --insecure-no-auth serves without a signature.
	addr, _, stop := startServe(t, "--state", state, "--api", "127.0.0.1:0", "--insecure-no-auth")
	defer stop()
	if st, body := apiCall(t, addr, awsapi.Key{}, "ListOrganizations", "{}"); st != 200 {
		t.Fatalf("no-auth: %d %s", st, body)
	}
}
