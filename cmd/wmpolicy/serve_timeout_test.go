package main

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeReadTimeout: a client that sends a request's headers and then
// trickles (or withholds) its body is cut off after serveReadTimeout, so
// slow clients cannot hold connections and goroutines of a listener that
// reads bodies whole without bound (SEMANTICS D5: every input is bounded;
// E3: the Dovecot listener then refuses).
func TestServeReadTimeout(t *testing.T) {
	old := serveReadTimeout
	serveReadTimeout = 200 * time.Millisecond
	defer func() { serveReadTimeout = old }()

	sigs := make(chan chan<- os.Signal, 1)
	oldNotify := serveNotify
	serveNotify = func(c chan<- os.Signal, _ ...os.Signal) { sigs <- c }
	defer func() { serveNotify = oldNotify }()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"serve", "--rules", "../../examples/org/rules.json", "--users", "../../examples/org/users.json",
			"--dovecot", "127.0.0.1:0", "--log", "json"}, nil, io.Discard, stderr)
	}()
	var notify chan<- os.Signal
	select {
	case notify = <-sigs:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not start: %s", stderr.String())
	}
	defer func() {
		notify <- syscall.SIGTERM
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop: %s", stderr.String())
		}
	}()
	var addr string
	for _, line := range strings.Split(stderr.String(), "\n") {
		var rec struct{ Msg, Listener, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" && rec.Listener == "dovecot" {
			addr = rec.Addr
		}
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /?command=allow HTTP/1.1\r\nHost: wmpolicy\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"login\":")
	// The server must end the connection long before this deadline.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("a withheld body held the connection open: %v", err)
	}
	if strings.Contains(string(answer), `"status":0`) {
		t.Errorf("a cut-off request was accepted: %s", answer)
	}
}
