package enforce

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// Postfix policy delegation limits, when PostfixOptions leaves them 0.
const (
	// DefaultMaxLine bounds one name=value line. Postfix's attributes are
	// short (addresses, host names, a SASL user name).
	DefaultMaxLine = 4 << 10
	// DefaultMaxRequest bounds one request: every line and its newline.
	DefaultMaxRequest = 32 << 10
	// DefaultIdleTimeout is how long a connection may wait for its next
	// request; Postfix's own smtpd_policy_service_max_idle is 300s.
	DefaultIdleTimeout = 5 * time.Minute
)

// PostfixOptions configure a PostfixPolicy; the zero value uses the defaults
// above.
type PostfixOptions struct {
	// MaxLine bounds a name=value line, MaxRequest a whole request (bytes);
	// a request over either closes the connection without an answer.
	MaxLine, MaxRequest int
	// IdleTimeout closes a connection that sends nothing for this long.
	IdleTimeout time.Duration
}

// PostfixPolicy is a Postfix SMTP access policy delegation server
// (SEMANTICS E5), for check_policy_service. Postfix writes name=value lines
// ending in an empty line, many requests per connection; for each the policy
// answers one action line and an empty line:
//
//	request has sasl_username   rules allow  →  action=DUNNO
//	request has sasl_username   rules deny   →  action=REJECT 5.7.1 Access denied by policy
//	no sasl_username (MX traffic)            →  action=DUNNO, no rule check
//
// ALLOW is DUNNO, never OK, which would skip the restrictions after it. The
// user is sasl_username, the client client_address, the action SMTP. A
// malformed request (a line without '=', a request without
// request=smtpd_access_policy, request, sasl_username or client_address
// given twice, a line or request over the limits, a connection ending
// mid-request) closes the connection without an answer:
// Postfix then applies its default_action (E3).
//
// A PostfixPolicy is safe for concurrent use: ServeConn serves one
// connection per call. Apart from the Decider's log record, a request whose
// login and client are those of the connection's previous request (the
// recipients of one SMTP session) is read and answered without allocating
// (TestPostfixRequestAllocs). The zero PostfixPolicy closes every
// connection without an answer (make one with NewPostfixPolicy).
type PostfixPolicy struct {
	d      *Decider
	opts   PostfixOptions
	decide decideFunc
}

// NewPostfixPolicy returns the policy server deciding through d.
func NewPostfixPolicy(d *Decider, opts PostfixOptions) (*PostfixPolicy, error) {
	if err := checkDecider(d); err != nil {
		return nil, err
	}
	if opts.MaxLine < 0 || opts.MaxRequest < 0 || opts.IdleTimeout < 0 {
		return nil, errors.New("enforce: negative Postfix limit")
	}
	if opts.MaxLine == 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.MaxRequest == 0 {
		opts.MaxRequest = DefaultMaxRequest
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	return &PostfixPolicy{d: d, opts: opts, decide: d.Decide}, nil
}

var (
	postfixDunno  = []byte("action=DUNNO\n\n")
	postfixReject = []byte("action=REJECT 5.7.1 " + DenyMessage + "\n\n")
)

// postfixError is a malformed request: the policy closes the connection.
type postfixError struct{ msg string }

func (e *postfixError) Error() string { return "malformed policy request: " + e.msg }

// postfixRequest is the part of a request the policy uses.
type postfixRequest struct {
	haveRequest bool // request=smtpd_access_policy seen
	sasl        []byte
	client      []byte
}

// ServeConn serves the requests of one connection until the client closes
// it, a request is malformed, the connection is idle past IdleTimeout, or
// ctx is done (then the request in flight, if any, is answered first). It
// closes c.
func (h *PostfixPolicy) ServeConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	if h.decide == nil {
		return
	}
	br := bufio.NewReaderSize(c, h.opts.MaxLine+1)
	bw := bufio.NewWriterSize(c, 256)

	// Shutdown interrupts a connection waiting for its next request, never
	// one in the middle of a request.
	var mu sync.Mutex
	idle, stopping := true, false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		stopping = true
		if idle {
			c.SetReadDeadline(time.Now())
		}
		mu.Unlock()
	})
	defer stop()
	setIdle := func(v bool) bool {
		mu.Lock()
		defer mu.Unlock()
		idle = v
		if v && stopping {
			return false
		}
		return true
	}

	var req postfixRequest
	a := Answer{Rules: make([]string, 0, 8)}
	var login, clientText string
	var client netip.Addr
	for {
		if !setIdle(true) {
			return
		}
		c.SetReadDeadline(time.Now().Add(h.opts.IdleTimeout))
		if _, err := br.Peek(1); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, context.Canceled) && !isTimeout(err) {
				h.connError(ctx, c, err)
			}
			return
		}
		if !setIdle(false) {
			return
		}
		if err := h.readRequest(br, &req); err != nil {
			h.connError(ctx, c, err)
			return
		}
		answer := postfixDunno
		if len(req.sasl) > 0 {
			// One SMTP session asks once per recipient with the same login
			// and client: keep their strings and parsed address.
			if string(req.sasl) != login {
				login = string(req.sasl)
			}
			if string(req.client) != clientText {
				clientText = string(req.client)
				client, _ = netip.ParseAddr(clientText) // invalid: denied (E2)
			}
			h.decide(ctx, Question{
				Protocol: "postfix",
				Client:   client,
				Login:    login,
				Action:   accessctl.SMTP,
			}, &a)
			if !a.Allow {
				answer = postfixReject
			}
		}
		bw.Write(answer)
		if err := bw.Flush(); err != nil {
			h.connError(ctx, c, err)
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (h *PostfixPolicy) connError(ctx context.Context, c net.Conn, err error) {
	level := slog.LevelWarn
	var pe *postfixError
	if !errors.As(err, &pe) {
		level = slog.LevelInfo // the peer went away, or the connection timed out
	}
	h.d.logger().LogAttrs(ctx, level, "closing policy connection",
		slog.String("protocol", "postfix"), slog.String("peer", c.RemoteAddr().String()), slog.Any("error", err))
}

// readRequest reads one request's lines up to the empty line into req,
// whose byte slices it reuses.
func (h *PostfixPolicy) readRequest(br *bufio.Reader, req *postfixRequest) error {
	req.haveRequest = false
	req.sasl, req.client = req.sasl[:0], req.client[:0]
	haveSASL, haveClient := false, false
	total := 0
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return &postfixError{fmt.Sprintf("line longer than %d bytes", h.opts.MaxLine)}
		case errors.Is(err, io.EOF) && len(line) > 0:
			return &postfixError{"connection closed in the middle of a request"}
		case err != nil:
			return err
		}
		total += len(line)
		if total > h.opts.MaxRequest {
			return &postfixError{fmt.Sprintf("request longer than %d bytes", h.opts.MaxRequest)}
		}
		line = line[:len(line)-1]
		if len(line) == 0 {
			if !req.haveRequest {
				return &postfixError{"no request=smtpd_access_policy"}
			}
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte{'='})
		if !ok || len(name) == 0 {
			return &postfixError{"a line is not name=value"}
		}
		// An attribute the decision reads must appear once: with two, the
		// last would win, and "sasl_username=" after a user's name would
		// turn a decided login into unchecked MX traffic.
		switch string(name) {
		case "request":
			if string(value) != "smtpd_access_policy" {
				return &postfixError{"request is not smtpd_access_policy"}
			}
			if req.haveRequest {
				return &postfixError{"request appears twice"}
			}
			req.haveRequest = true
		case "sasl_username":
			if haveSASL {
				return &postfixError{"sasl_username appears twice"}
			}
			haveSASL = true
			req.sasl = append(req.sasl[:0], value...)
		case "client_address":
			if haveClient {
				return &postfixError{"client_address appears twice"}
			}
			haveClient = true
			req.client = append(req.client[:0], value...)
		}
	}
}
