package enforce

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// maxLoginLen bounds the login name an HTTP enforcement point passes on: a
// longer one names no user (the directory's identifiers are at most 256
// characters) and is denied like an unknown user.
const maxLoginLen = 320

// HTTPAuthz is the HTTP authorization endpoint of SEMANTICS E7, for nginx
// auth_request and Envoy ext_authz in HTTP mode. It answers every request
// with an empty body:
//
//	200  allowed; the header X-Wmpolicy-User carries the resolved user ID
//	401  no user could be determined (no Basic credentials, no user header);
//	     with WWW-Authenticate: Basic
//	403  denied: the rules, an unknown or disabled user, an IPv6 client,
//	     a client address that cannot be determined, a malformed path, a
//	     Bearer token on a path that is not EWS (A12), or more than one
//	     Authorization header (or user header): the server behind could
//	     read another one than the one decided
//
// The original request: behind nginx, X-Original-URI and X-Original-Method
// (the auth_request location sets them from $request_uri and
// $request_method); behind Envoy, the request's own URI and method (Envoy
// sends the original ones). Front says which, or (FrontAuto) that
// X-Original-URI decides. The path, cleaned as CleanPath does,
// selects the action through Paths. The user is the user part of HTTP Basic
// credentials or, when UserHeader is set and the request carries it, that
// header. The client address is as TrustedProxies.ClientAddr says.
//
// A Bearer token (an impersonation token, E8) on an EWS path cannot be
// decided here: the SOAP body that names the mailbox never reaches an
// authorization endpoint. It is denied, unless DeferEWSBearer says that an
// EWSProxy in front of the EWS server decides it.
//
// Every decision is logged once (by the Decider, or here for the refusals
// made before a question can be asked). The fields must not change once
// serving begins; HTTPAuthz is then safe for concurrent use. The zero
// HTTPAuthz (without a Decider) answers 403 to everything.
type HTTPAuthz struct {
	// Decider decides; required.
	Decider *Decider
	// Paths maps paths to actions; the zero PathActions means
	// DefaultPathActions.
	Paths PathActions
	// Proxies are the peers whose X-Forwarded-For is believed; the zero
	// value trusts none. Behind nginx, list nginx's address.
	Proxies TrustedProxies
	// UserHeader, when set, names the header a trusted upstream sets to the
	// authenticated user ("X-Remote-User"). The upstream must set or clear it
	// on every request: a client's own copy would otherwise be believed.
	UserHeader string
	// DeferEWSBearer lets a Bearer-token request on an EWS path through with
	// 200 and X-Wmpolicy-Deferred: ews-impersonation, because an EWSProxy
	// decides it (E8). Without it such requests get 403. A path holding a
	// backslash is never deferred (403): it is EWS only because CleanPath
	// reads '\' as '/', which the front end's routing does not, so the
	// request would reach the mail server without passing the EWSProxy.
	DeferEWSBearer bool
	// Realm is the Basic realm of 401 answers; "" means "wmpolicy".
	Realm string
	// Front says where the original request line comes from; the zero
	// value is FrontAuto.
	Front Front
}

// Front is the kind of proxy an HTTPAuthz answers.
type Front uint8

const (
	// FrontAuto: X-Original-URI and X-Original-Method when the request
	// carries X-Original-URI, else the request's own path and method.
	FrontAuto Front = iota
	// FrontNginx: X-Original-URI and X-Original-Method only; a request
	// without X-Original-URI is refused (403), so that an auth location that
	// forgets to set it fails closed instead of deciding every request as
	// the path "/" (WebMail).
	FrontNginx
	// FrontEnvoy: the request's own path and method only; X-Original-URI is
	// ignored, so that a client header passed through cannot choose the
	// action.
	FrontEnvoy
)

// ParseFront reads "auto", "nginx" or "envoy".
func ParseFront(s string) (Front, error) {
	switch s {
	case "auto":
		return FrontAuto, nil
	case "nginx":
		return FrontNginx, nil
	case "envoy":
		return FrontEnvoy, nil
	}
	return 0, fmt.Errorf("front %q: want auto, nginx or envoy", s)
}

// String returns "auto", "nginx" or "envoy".
func (f Front) String() string {
	switch f {
	case FrontAuto:
		return "auto"
	case FrontNginx:
		return "nginx"
	case FrontEnvoy:
		return "envoy"
	}
	return "invalid front"
}

var defaultPaths = DefaultPathActions()

// httpProtocol names an HTTP question in the Decider's log by its action
// ("http/EWS"), without allocating per request.
var httpProtocol = func() [accessctl.NumActions + 1]string {
	var p [accessctl.NumActions + 1]string
	p[0] = "http"
	for _, a := range accessctl.Actions() {
		p[a] = "http/" + a.String()
	}
	return p
}()

// ServeHTTP answers one authorization request.
func (h *HTTPAuthz) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var uri, method string
	if h.Front != FrontEnvoy {
		// Canonical keys: Get does not allocate for them.
		uri, method = r.Header.Get("X-Original-Uri"), r.Header.Get("X-Original-Method")
	}
	var status int
	var user string
	switch {
	case uri != "":
		_, status, user = h.check(r.Context(), r, uri, method)
	case h.Front == FrontNginx:
		h.refuse(r.Context(), r, Question{}, r.RequestURI, r.Method, "no X-Original-URI from nginx")
		status = http.StatusForbidden
	default:
		_, status, user = h.check(r.Context(), r, r.RequestURI, r.Method)
	}
	switch status {
	case http.StatusOK:
		if user != "" {
			w.Header()["X-Wmpolicy-User"] = []string{user}
		}
	case statusDeferred:
		w.Header()["X-Wmpolicy-Deferred"] = deferredValue
		status = http.StatusOK
	case http.StatusUnauthorized:
		w.Header()["Www-Authenticate"] = []string{`Basic realm="` + h.realm() + `", charset="UTF-8"`}
	}
	w.Header()["Cache-Control"] = noStore
	w.Header()["Content-Length"] = zeroLength
	w.WriteHeader(status)
}

var (
	deferredValue = []string{"ews-impersonation"}
	noStore       = []string{"no-store"}
	zeroLength    = []string{"0"}
)

// statusDeferred is check's answer for a Bearer request an EWSProxy decides.
const statusDeferred = 1

func (h *HTTPAuthz) realm() string {
	if h.Realm == "" {
		return "wmpolicy"
	}
	return h.Realm
}

func (h *HTTPAuthz) paths() *PathActions {
	if len(h.Paths.prefixes) == 0 && h.Paths.fallback == 0 {
		return &defaultPaths
	}
	return &h.Paths
}

// credKind is what an Authorization header (or the user header) gave.
type credKind uint8

const (
	credNone      credKind = iota
	credBasic              // Authorization: Basic
	credHeader             // the trusted upstream's user header
	credBearer             // Authorization: Bearer (an impersonation token)
	credAmbiguous          // two Authorization headers, or two user headers
)

// credentials reads the request's credentials. A Bearer token wins over the
// user header (A12 must see it); the user header wins over Basic. login is
// the user (Basic, header) or the token (Bearer). A request with more than
// one Authorization header, or more than one user header, is credAmbiguous:
// the server behind the proxy may read another of them than the first (a
// Bearer token after the Basic credentials decided here), so it is refused.
func credentials(hdr http.Header, userHeader string) (kind credKind, login string) {
	auths := hdr["Authorization"]
	if len(auths) > 1 {
		return credAmbiguous, ""
	}
	var auth string
	if len(auths) == 1 {
		auth = auths[0]
	}
	if tok, ok := cutScheme(auth, "Bearer"); ok {
		return credBearer, tok
	}
	if userHeader != "" {
		switch us := hdr.Values(userHeader); {
		case len(us) > 1:
			return credAmbiguous, ""
		case len(us) == 1 && us[0] != "":
			return credHeader, us[0]
		}
	}
	if enc, ok := cutScheme(auth, "Basic"); ok {
		if u := basicUser(enc); u != "" {
			return credBasic, u
		}
	}
	return credNone, ""
}

// basicUser returns the user part of Basic credentials (base64 of
// "user:password", RFC 7617), or "" when they do not decode or hold no colon.
// Credentials up to 512 bytes decode on the stack; only the user's string is
// allocated.
func basicUser(enc string) string {
	var buf [384]byte
	if base64.StdEncoding.DecodedLen(len(enc)) > len(buf) {
		return ""
	}
	n, err := base64.StdEncoding.Decode(buf[:], []byte(enc))
	if err != nil {
		return ""
	}
	u, _, ok := bytes.Cut(buf[:n], []byte{':'})
	if !ok {
		return ""
	}
	return string(u)
}

// cutScheme returns the credentials of "Scheme creds" (the scheme compared
// case-insensitively, RFC 9110), trimmed of spaces, when non-empty.
func cutScheme(auth, scheme string) (string, bool) {
	n := len(scheme)
	if len(auth) <= n || !strings.EqualFold(auth[:n], scheme) || (auth[n] != ' ' && auth[n] != '\t') {
		return "", false
	}
	c := strings.TrimSpace(auth[n+1:])
	return c, c != ""
}

// check decides a request whose original URI and method are given. It
// returns the question asked (Action 0 when none was), the HTTP status
// (200, 401, 403 or statusDeferred) and, on 200, the resolved user ID.
func (h *HTTPAuthz) check(ctx context.Context, r *http.Request, uri, method string) (Question, int, string) {
	q := Question{Protocol: "http"}
	p, err := CleanPath(uri)
	if err != nil {
		h.refuse(ctx, r, q, uri, method, "malformed path")
		return q, http.StatusForbidden, ""
	}
	action := h.paths().Action(p)
	kind, login := credentials(r.Header, h.UserHeader)
	client, err := h.Proxies.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
	if err != nil {
		h.refuse(ctx, r, q, p, method, err.Error())
		return q, http.StatusForbidden, ""
	}
	q.Client, q.Action = client, action
	q.Protocol = httpProtocol[action]
	switch kind {
	case credNone:
		h.refuse(ctx, r, q, p, method, "no user")
		return q, http.StatusUnauthorized, ""
	case credAmbiguous:
		h.refuse(ctx, r, q, p, method, "more than one Authorization header (or user header)")
		return q, http.StatusForbidden, ""
	case credBearer:
		if action != accessctl.EWS {
			h.refuse(ctx, r, q, p, method, "impersonation token on a path that is not EWS (A12)")
			return q, http.StatusForbidden, ""
		}
		if !h.DeferEWSBearer {
			h.refuse(ctx, r, q, p, method, "impersonation token: decided only by the EWS proxy")
			return q, http.StatusForbidden, ""
		}
		if hasBackslash(uri) {
			// CleanPath reads '\' as '/' (as IIS does); nginx and Envoy
			// route without doing so, so this request would not reach the
			// EWS proxy that the deferral counts on.
			h.refuse(ctx, r, q, p, method, "impersonation token on a path with a backslash: the front end may not route it to the EWS proxy")
			return q, http.StatusForbidden, ""
		}
		h.logger().LogAttrs(ctx, slog.LevelInfo, "deferred",
			slog.String("protocol", "http"), slog.String("client", client.String()),
			slog.String("method", logged(method)), slog.String("path", logged(p)),
			slog.String("reason", "impersonation token: the EWS proxy decides"))
		return q, statusDeferred, ""
	}
	if len(login) > maxLoginLen {
		login = login[:maxLoginLen] // names no user: denied as unknown
	}
	q.Login = login
	if h.Decider == nil {
		h.refuse(ctx, r, q, p, method, "no decider")
		return q, http.StatusForbidden, ""
	}
	a := answerPool.Get().(*Answer)
	h.Decider.Decide(ctx, q, a)
	allow, user := a.Allow, a.UserID
	answerPool.Put(a)
	if allow {
		return q, http.StatusOK, user
	}
	return q, http.StatusForbidden, ""
}

func (h *HTTPAuthz) logger() *slog.Logger {
	if h.Decider != nil {
		return h.Decider.logger()
	}
	return slog.Default()
}

// refuse logs a refusal made before (or instead of) a Decider question.
func (h *HTTPAuthz) refuse(ctx context.Context, r *http.Request, q Question, path, method, reason string) {
	l := h.logger()
	if !l.Enabled(ctx, slog.LevelWarn) {
		return
	}
	client := r.RemoteAddr
	if q.Client.IsValid() {
		client = q.Client.String()
	}
	l.LogAttrs(ctx, slog.LevelWarn, "decision",
		slog.String("protocol", "http"),
		slog.String("client", client),
		slog.String("method", logged(method)),
		slog.String("path", logged(path)),
		slog.String("action", actionName(q.Action)),
		slog.String("effect", "DENY"),
		slog.String("reason", reason))
}

func actionName(a accessctl.Action) string {
	if a == 0 {
		return ""
	}
	return a.String()
}

// clientOf is TrustedProxies.ClientAddr for a request.
func (h *HTTPAuthz) clientOf(r *http.Request) (netip.Addr, error) {
	return h.Proxies.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// hasBackslash reports whether the path of a request URI holds a backslash,
// literal or percent-encoded (%5C).
func hasBackslash(uri string) bool {
	for i := 0; i < len(uri); i++ {
		switch uri[i] {
		case '?', '#':
			return false
		case '\\':
			return true
		case '%':
			if i+2 < len(uri) && uri[i+1] == '5' && (uri[i+2] == 'c' || uri[i+2] == 'C') {
				return true
			}
		}
	}
	return false
}
