package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// maxLine is the longest command line a client may send (RFC 7162 asks IMAP
// servers to accept 8192 octets; RFC 4954 AUTH lines need 12288 at most, and
// PLAIN with 255-byte fields fits in 8192).
const maxLine = 8192

// maxFailures is how many failed logins a connection may make before it is closed.
const maxFailures = 3

// writeTimeout bounds every write to a client.
const writeTimeout = 10 * time.Second

// ServeIMAP accepts IMAP connections on ln until ctx is done, then tells the
// connected clients "* BYE", closes them and returns nil once every connection
// has ended. It returns an error only when Accept fails for good.
func (g *Gateway) ServeIMAP(ctx context.Context, ln net.Listener) error {
	return g.serve(ctx, ln, accessctl.IMAP)
}

// ServeSMTP is ServeIMAP for SMTP submission (AUTH PLAIN).
func (g *Gateway) ServeSMTP(ctx context.Context, ln net.Listener) error {
	return g.serve(ctx, ln, accessctl.SMTP)
}

func (g *Gateway) serve(ctx context.Context, ln net.Listener, proto accessctl.Action) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	backoff := time.Duration(0)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				// Out of file descriptors and the like: wait and retry, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				g.log.Error("accept", "error", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
					return nil
				}
				continue
			}
			return err
		}
		backoff = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.handle(ctx, c, proto)
		}()
	}
}

// isTemporary reports errors such as EMFILE that Accept may recover from.
func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// session is one client connection.
type session struct {
	g       *Gateway
	ctx     context.Context
	c       net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	id      uint64
	ip      netip.Addr
	proto   accessctl.Action
	matched []string // scratch for Evaluate, reused by every login on the connection
	authed  bool
	fails   int
}

var errLineTooLong = errors.New("line too long")

func (g *Gateway) handle(ctx context.Context, c net.Conn, proto accessctl.Action) {
	defer c.Close()
	// On shutdown, unblock the pending read; the session then says goodbye.
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	s := &session{
		g: g, ctx: ctx, c: c, id: g.conn.Add(1), proto: proto,
		r:       bufio.NewReaderSize(c, maxLine+2),
		w:       bufio.NewWriter(c),
		matched: make([]string, 0, 8),
	}
	ip, err := s.clientIP()
	if err != nil {
		g.log.Warn("connection refused", "conn", s.id, "proto", proto.String(), "peer", c.RemoteAddr().String(), "error", err)
		return
	}
	s.ip = ip
	g.log.Debug("connection", "conn", s.id, "proto", proto.String(), "client", ip.String())
	if proto == accessctl.IMAP {
		s.imap()
	} else {
		s.smtp()
	}
}

// clientIP returns the address the rules are asked about: Config.AsClient,
// else the source of the PROXY header when Config.ProxyHeader is set, else
// the TCP peer's address.
func (s *session) clientIP() (netip.Addr, error) {
	peer, err := netip.ParseAddrPort(s.c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, err
	}
	cfg := &s.g.cfg
	switch {
	case cfg.AsClient.IsValid():
		return cfg.AsClient, nil
	case cfg.ProxyHeader:
		if !peer.Addr().Unmap().IsLoopback() {
			return netip.Addr{}, errors.New("a PROXY header is trusted from a loopback peer only")
		}
		line, err := s.readLine()
		if err != nil {
			return netip.Addr{}, err
		}
		src, known, err := parseProxyV1(line)
		if err != nil {
			return netip.Addr{}, err
		}
		if known {
			return src.Unmap(), nil
		}
	}
	return peer.Addr().Unmap(), nil
}

// readLine reads one line, without its CRLF (a bare LF is accepted too, for
// people typing into netcat), waiting at most Config.IdleTimeout. It returns
// ctx.Err() when the gateway is shutting down.
func (s *session) readLine() (string, error) {
	s.c.SetReadDeadline(time.Now().Add(s.g.cfg.IdleTimeout))
	if err := s.ctx.Err(); err != nil {
		// Checked after setting the deadline, which may have overwritten the
		// shutdown's: either we see ctx done here, or its deadline came later.
		return "", err
	}
	b, err := s.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errLineTooLong
		}
		if s.ctx.Err() != nil {
			return "", s.ctx.Err()
		}
		return "", err
	}
	b = b[:len(b)-1]
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return string(b), nil
}

// send writes one or more response lines, each ended by CRLF.
func (s *session) send(lines ...string) error {
	s.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	for _, l := range lines {
		s.w.WriteString(l)
		s.w.WriteString("\r\n")
	}
	return s.w.Flush()
}

// login decides one login and logs the decision.
func (s *session) login(user, pass string) outcome {
	o := s.g.decide(s.ip, s.proto, user, pass, s.matched)
	s.matched = o.matched[:0] // keep the grown slice for the next login
	s.g.logDecision(s.ctx, s.id, s.ip, user, o)
	if o.step == stepNone {
		s.authed = true
	} else {
		s.fails++
	}
	return o
}

// why is the reason a client is told on a refused login. Unknown users,
// disabled users and wrong passwords all look the same to the client (no user
// enumeration); the names of the deciding rules go to the log only.
func (o outcome) why() string {
	if o.step != stepAccessControl {
		return "authentication failed"
	}
	if o.err != nil {
		return "access denied: the request cannot be evaluated"
	}
	return "access denied by the organization's access-control rules (" + o.reason.String() + ")"
}

// goodbye answers a failed read: shutdown, idle timeout or an overlong line
// each get their line; a closed connection gets nothing.
func (s *session) goodbye(err error, shutdown, idle, tooLong string) {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || s.ctx.Err() != nil:
		s.send(shutdown)
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.send(idle)
	case errors.Is(err, errLineTooLong):
		s.send(tooLong)
	case errors.Is(err, io.EOF):
	default:
		s.g.log.Debug("read", "conn", s.id, "error", err)
	}
}

// imap runs an IMAP session (RFC 9051), just far enough to log in:
// CAPABILITY, NOOP, LOGOUT, LOGIN and AUTHENTICATE PLAIN (with SASL-IR), and
// after the login an empty LIST, so that `curl imap://…` completes.
func (s *session) imap() {
	const caps = "CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR"
	if s.send("* OK ["+caps+"] wmpolicy gateway example ready") != nil {
		return
	}
	for {
		line, err := s.readLine()
		if err != nil {
			s.goodbye(err, "* BYE [UNAVAILABLE] server shutting down", "* BYE idle for too long",
				"* BYE [TOOBIG] line too long")
			return
		}
		cmd, err := parseIMAPLine(line)
		if err != nil {
			if s.send(sanitizeTag(cmd.Tag)+" BAD [CLIENTBUG] "+err.Error()) != nil {
				return
			}
			continue
		}
		var o outcome
		var tried bool
		switch cmd.Command {
		case "CAPABILITY":
			err = s.send("* "+caps, cmd.Tag+" OK CAPABILITY completed")
		case "NOOP":
			err = s.send(cmd.Tag + " OK NOOP completed")
		case "LOGOUT":
			s.send("* BYE logging out", cmd.Tag+" OK LOGOUT completed")
			return
		case "LOGIN", "AUTHENTICATE":
			if s.authed {
				err = s.send(cmd.Tag + " BAD [CLIENTBUG] already authenticated")
				break
			}
			var user, pass string
			user, pass, err = s.imapCredentials(cmd)
			if errors.Is(err, errBad) {
				err = nil
				break
			}
			if err != nil {
				s.goodbye(err, "* BYE [UNAVAILABLE] server shutting down", "* BYE idle for too long", "* BYE [TOOBIG] line too long")
				return
			}
			o, tried = s.login(user, pass), true
			switch o.step {
			case stepNone:
				err = s.send(cmd.Tag + " OK " + cmd.Command + " completed: welcome (this example stops here)")
			case stepAccessControl:
				err = s.send(cmd.Tag + " NO [AUTHORIZATIONFAILED] " + o.why())
			default:
				err = s.send(cmd.Tag + " NO [AUTHENTICATIONFAILED] " + o.why())
			}
		case "LIST":
			if s.authed {
				// What curl asks after logging in: no mailboxes here.
				err = s.send(cmd.Tag + " OK LIST completed (this example has no mailboxes)")
				break
			}
			fallthrough
		default:
			if s.authed {
				err = s.send(cmd.Tag + " NO [CANNOT] this example stops after the login decision")
			} else {
				err = s.send(cmd.Tag + " BAD [CLIENTBUG] command unknown or not allowed before LOGIN")
			}
		}
		if err != nil {
			return
		}
		if tried && s.fails >= maxFailures {
			s.send("* BYE too many failed logins")
			return
		}
	}
}

// errBad means a syntax error was answered already.
var errBad = errors.New("bad command")

// imapCredentials reads the user name and password of LOGIN or AUTHENTICATE
// PLAIN, answering syntax errors itself (then it returns errBad).
func (s *session) imapCredentials(cmd imapLine) (user, pass string, err error) {
	if cmd.Command == "LOGIN" {
		args, err := parseAStrings(cmd.Args, 2)
		if err != nil {
			return "", "", s.bad(cmd.Tag + " BAD [CLIENTBUG] LOGIN " + err.Error())
		}
		return args[0], args[1], nil
	}
	mech, ir, hasIR := cutSpace(cmd.Args)
	if !equalFold(mech, "PLAIN") {
		return "", "", s.bad(cmd.Tag + " NO [CANNOT] only AUTHENTICATE PLAIN is supported")
	}
	if !hasIR {
		if err := s.send("+ "); err != nil {
			return "", "", err
		}
		if ir, err = s.readLine(); err != nil {
			return "", "", err
		}
		if ir == "*" {
			return "", "", s.bad(cmd.Tag + " BAD AUTHENTICATE cancelled")
		}
	}
	authz, user, pass, err := decodePlain(ir)
	if err != nil {
		return "", "", s.bad(cmd.Tag + " BAD [CLIENTBUG] " + err.Error())
	}
	if authz != "" && authz != user {
		return "", "", s.bad(cmd.Tag + " NO [AUTHORIZATIONFAILED] acting as another user is not supported")
	}
	return user, pass, nil
}

// bad sends line and returns errBad, or the write's error.
func (s *session) bad(line string) error {
	if err := s.send(line); err != nil {
		return err
	}
	return errBad
}

func cutSpace(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// equalFold compares ASCII case-insensitively.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// smtp runs an SMTP submission session (RFC 5321, RFC 4954), just far enough
// to authenticate: EHLO/HELO, AUTH PLAIN (with or without an initial
// response), NOOP, RSET, QUIT.
func (s *session) smtp() {
	const (
		shutdown = "421 4.3.2 server shutting down"
		idle     = "421 4.4.2 idle for too long"
		tooLong  = "500 5.5.6 line too long"
	)
	if s.send("220 localhost ESMTP wmpolicy gateway example ready") != nil {
		return
	}
	ehlo := false
	for {
		line, err := s.readLine()
		if err != nil {
			s.goodbye(err, shutdown, idle, tooLong)
			return
		}
		verb, arg, _ := cutSpace(line)
		tried := false
		switch {
		case equalFold(verb, "EHLO"):
			ehlo = true
			err = s.send("250-localhost greets "+truncate(printable(arg), 64), "250-AUTH PLAIN", "250 ENHANCEDSTATUSCODES")
		case equalFold(verb, "HELO"):
			err = s.send("250 localhost")
		case equalFold(verb, "NOOP"), equalFold(verb, "RSET"):
			err = s.send("250 2.0.0 OK")
		case equalFold(verb, "QUIT"):
			s.send("221 2.0.0 bye")
			return
		case equalFold(verb, "AUTH"):
			if !ehlo {
				err = s.send("503 5.5.1 EHLO first")
				break
			}
			if s.authed {
				err = s.send("503 5.5.1 already authenticated")
				break
			}
			var user, pass string
			user, pass, err = s.smtpCredentials(arg)
			if errors.Is(err, errBad) {
				err = nil
				break
			}
			if err != nil {
				s.goodbye(err, shutdown, idle, tooLong)
				return
			}
			o := s.login(user, pass)
			tried = true
			switch o.step {
			case stepNone:
				err = s.send("235 2.7.0 authentication successful (this example stops here)")
			case stepAccessControl:
				err = s.send("535 5.7.1 " + o.why())
			default:
				err = s.send("535 5.7.8 " + o.why())
			}
		case equalFold(verb, "MAIL"), equalFold(verb, "RCPT"), equalFold(verb, "DATA"):
			if s.authed {
				err = s.send("502 5.5.1 this example stops after the login decision")
			} else {
				err = s.send("530 5.7.0 authentication required")
			}
		default:
			err = s.send("500 5.5.2 command not recognized")
		}
		if err != nil {
			return
		}
		if tried && s.fails >= maxFailures {
			s.send("421 4.7.0 too many failed logins")
			return
		}
	}
}

// smtpCredentials reads the credentials of "AUTH PLAIN [initial-response]",
// answering syntax errors itself (then it returns errBad).
func (s *session) smtpCredentials(arg string) (user, pass string, err error) {
	mech, ir, hasIR := cutSpace(arg)
	if !equalFold(mech, "PLAIN") {
		return "", "", s.bad("504 5.5.4 only AUTH PLAIN is supported")
	}
	if !hasIR {
		if err := s.send("334 "); err != nil {
			return "", "", err
		}
		if ir, err = s.readLine(); err != nil {
			return "", "", err
		}
		if ir == "*" {
			return "", "", s.bad("501 5.0.0 authentication cancelled")
		}
	}
	authz, user, pass, err := decodePlain(ir)
	if err != nil {
		return "", "", s.bad("501 5.5.2 " + err.Error())
	}
	if authz != "" && authz != user {
		return "", "", s.bad("535 5.7.8 acting as another user is not supported")
	}
	return user, pass, nil
}

// printable replaces bytes outside printable ASCII, for echoing client input.
func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
