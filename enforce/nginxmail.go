package enforce

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// NginxMailOptions configure a NginxMail handler.
type NginxMailOptions struct {
	// POP3 is the action POP3 logins are decided as; 0, the default, denies
	// every POP3 login (E2).
	POP3 accessctl.Action
	// IMAPBackend, POP3Backend and SMTPBackend are the backends an allowed login of that
	// protocol is proxied to (Auth-Server, an IP literal, and Auth-Port). A
	// protocol without a backend is refused with a temporary error, logged.
	IMAPBackend, POP3Backend, SMTPBackend netip.AddrPort
	// SecretHeader and Secret: when SecretHeader is set, every request must
	// carry it with the value Secret (nginx: auth_http_header SecretHeader
	// "Secret";), compared in constant time, or it is refused.
	SecretHeader, Secret string
}

// NginxMail is the nginx mail auth_http server (SEMANTICS E6): an
// http.Handler for the auth_http directive of nginx's mail proxy. nginx
// sends the login in request headers; the handler answers in response
// headers:
//
//	Auth-Method: none (inbound MX)  →  Auth-Status: OK, Auth-Server, Auth-Port; no rule check
//	the rules allow                 →  Auth-Status: OK, Auth-Server, Auth-Port
//	the rules deny                  →  Auth-Status: Access denied by policy
//	                                   (SMTP also Auth-Error-Code: 535 5.7.8)
//
// Auth-Protocol imap → IMAP, smtp → SMTP, pop3 → POP3 (0 by default:
// denied, E2). The user is Auth-User (nginx URL-encodes it), the client
// Client-IP. No Auth-Wait is sent, so nginx closes the session after a
// refusal. A request without the configured secret header, or with an
// Auth-User that does not decode, is refused the same way.
//
// A NginxMail is safe for concurrent use. The zero NginxMail refuses every
// login (make one with NewNginxMail).
type NginxMail struct {
	d      *Decider
	opts   NginxMailOptions
	key    secret
	decide decideFunc

	imapServer, imapPort string
	pop3Server, pop3Port string
	smtpServer, smtpPort string
}

// NewNginxMail returns the auth_http handler deciding through d. It fails
// when d has no Source, the secret is half configured, POP3 is not a valid
// action, or a backend is set but not a valid IP address and port.
func NewNginxMail(d *Decider, opts NginxMailOptions) (*NginxMail, error) {
	if err := checkDecider(d); err != nil {
		return nil, err
	}
	if err := checkPOP3(opts.POP3); err != nil {
		return nil, err
	}
	key, err := newSecret(opts.SecretHeader, opts.Secret)
	if err != nil {
		return nil, err
	}
	h := &NginxMail{d: d, opts: opts, key: key, decide: d.Decide}
	for _, b := range []struct {
		name         string
		ap           netip.AddrPort
		server, port *string
	}{
		{"IMAP", opts.IMAPBackend, &h.imapServer, &h.imapPort},
		{"POP3", opts.POP3Backend, &h.pop3Server, &h.pop3Port},
		{"SMTP", opts.SMTPBackend, &h.smtpServer, &h.smtpPort},
	} {
		if b.ap == (netip.AddrPort{}) {
			continue
		}
		if !b.ap.IsValid() || b.ap.Port() == 0 || b.ap.Addr().Zone() != "" {
			return nil, fmt.Errorf("enforce: invalid %s backend %v", b.name, b.ap)
		}
		*b.server, *b.port = b.ap.Addr().String(), strconv.Itoa(int(b.ap.Port()))
	}
	return h, nil
}

var (
	nginxOK        = []string{"OK"}
	nginxDenied    = []string{DenyMessage}
	nginxSMTPError = []string{"535 5.7.8"}
	nginxTempFail  = []string{"Temporary server problem, try again later"}
	nginxSMTPTemp  = []string{"451 4.3.0"}
)

// ServeHTTP answers one auth_http request.
func (h *NginxMail) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	hdr := w.Header()
	protocol := r.Header.Get("Auth-Protocol")
	smtp := strings.EqualFold(protocol, "smtp")
	deny := func() {
		hdr["Auth-Status"] = nginxDenied
		if smtp {
			hdr["Auth-Error-Code"] = nginxSMTPError
		}
		w.WriteHeader(http.StatusOK)
	}
	if h.decide == nil || !h.key.ok(r.Header.Values(h.key.name)) {
		h.d.logger().LogAttrs(ctx, slog.LevelWarn, "refused malformed request",
			slog.String("protocol", "nginx-mail"), slog.String("reason", "missing or wrong secret header, or no Decider"))
		deny()
		return
	}
	var server, port string
	switch {
	case strings.EqualFold(protocol, "imap"):
		server, port = h.imapServer, h.imapPort
	case strings.EqualFold(protocol, "pop3"):
		server, port = h.pop3Server, h.pop3Port
	case smtp:
		server, port = h.smtpServer, h.smtpPort
	}
	allow := func() {
		if server == "" {
			h.d.logger().LogAttrs(ctx, slog.LevelError, "no backend for an allowed login",
				slog.String("protocol", logged(protocol)))
			hdr["Auth-Status"] = nginxTempFail
			if smtp {
				hdr["Auth-Error-Code"] = nginxSMTPTemp
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		hdr["Auth-Status"] = nginxOK
		hdr["Auth-Server"] = []string{server}
		hdr["Auth-Port"] = []string{port}
		w.WriteHeader(http.StatusOK)
	}
	if strings.EqualFold(r.Header.Get("Auth-Method"), "none") {
		allow() // inbound MX traffic: not a WorkMail client action (E6)
		return
	}
	login, err := url.PathUnescape(r.Header.Get("Auth-User"))
	if err != nil {
		h.d.logger().LogAttrs(ctx, slog.LevelWarn, "refused malformed request",
			slog.String("protocol", "nginx-mail"), slog.String("reason", "Auth-User does not URL-decode"), slog.Any("error", err))
		deny()
		return
	}
	client, _ := netip.ParseAddr(r.Header.Get("Client-IP")) // invalid: denied (E2)
	var a Answer
	h.decide(ctx, Question{
		Protocol: protocol,
		Client:   client,
		Login:    login,
		Action:   protocolAction(protocol, h.opts.POP3),
	}, &a)
	if a.Allow {
		allow()
		return
	}
	deny()
}

// ParseBackend parses a backend address for NginxMailOptions: an IP literal
// and a port ("127.0.0.1:143", "[::1]:143"). nginx requires an IP literal in
// Auth-Server.
func ParseBackend(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("backend %q: want IP:PORT with an IP literal: %w", s, err)
	}
	if ap.Port() == 0 || ap.Addr().Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("backend %q: want IP:PORT with a non-zero port and no zone", s)
	}
	return ap, nil
}
