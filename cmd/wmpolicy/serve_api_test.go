package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
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

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its
// key as PEM files, returning their paths and the certificate.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wmpolicy test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, cert
}

// 'serve --api --tls-cert --tls-key' serves the API over HTTPS.
func TestServeAPITLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := writeSelfSigned(t, dir)
	addr, _, stop := startServe(t, "--state", filepath.Join(dir, "state"), "--api", "127.0.0.1:0", "--insecure-no-auth",
		"--tls-cert", certFile, "--tls-key", keyFile)
	defer stop()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	r, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/", strings.NewReader("{}"))
	r.Header.Set("Content-Type", awsapi.ContentType)
	r.Header.Set("X-Amz-Target", awsapi.TargetPrefix+"ListOrganizations")
	resp, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("HTTPS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	// Plain HTTP on the TLS listener gets no API answer.
	if resp, err := http.Post("http://"+addr+"/", awsapi.ContentType, strings.NewReader("{}")); err == nil {
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on the TLS listener")
		}
		resp.Body.Close()
	}
}
