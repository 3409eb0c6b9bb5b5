package enforce

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/org"
)

// EWSAuthorizers keeps the impersonation.EWSAuthorizer of a Source's current
// snapshot (SEMANTICS B9): it is built at the first request that sees a new
// snapshot and cached until the next one, so a reload of the rules, a new
// role or a deleted user reaches impersonated requests at once.
//
// It is safe for concurrent use. Authorizer costs one atomic load and one
// comparison while the snapshot stays; a build runs once per snapshot, under
// a lock.
type EWSAuthorizers struct {
	src   Source
	build func(Snapshot) (*impersonation.EWSAuthorizer, error)
	log   *slog.Logger
	mu    sync.Mutex
	cur   atomic.Pointer[ewsAuthEntry]
	// version, when set, numbers what build reads besides the snapshot (the
	// role and key files of EWSFiles): a new version builds anew too.
	version func() uint64
}

type ewsAuthEntry struct {
	snap Snapshot
	ver  uint64
	auth *impersonation.EWSAuthorizer
}

// NewEWSAuthorizers returns the authorizers of src, built by build for each
// new snapshot. A build that fails is logged (nil log means slog.Default())
// and leaves no authorizer for that snapshot: impersonated requests are then
// denied (E3) until the next snapshot builds.
func NewEWSAuthorizers(src Source, build func(Snapshot) (*impersonation.EWSAuthorizer, error), log *slog.Logger) *EWSAuthorizers {
	if log == nil {
		log = slog.Default()
	}
	return &EWSAuthorizers{src: src, build: build, log: log}
}

// StoreEWSAuthorizer is the build function for an OrgSource: the store's own
// authorizer of organization orgID, with the store's token keys and clock
// (tokens from its AssumeImpersonationRole verify).
func StoreEWSAuthorizer(s *org.Store, orgID string) func(Snapshot) (*impersonation.EWSAuthorizer, error) {
	return func(Snapshot) (*impersonation.EWSAuthorizer, error) { return s.EWSAuthorizer(orgID) }
}

// FileEWSAuthorizer is the build function for a FileSource: the roles
// (`aws workmail get-impersonation-role` output) are compiled against each
// snapshot's directory (B2) and decide with its rules; tokens must be signed
// with keys (`wmpolicy token` key file) for organization orgID. A nil clock
// means time.Now.
func FileEWSAuthorizer(orgID string, roles []impersonation.Role, keys *impersonation.KeyRing, clock func() time.Time) func(Snapshot) (*impersonation.EWSAuthorizer, error) {
	roles = append([]impersonation.Role(nil), roles...)
	for i := range roles {
		roles[i] = roles[i].Clone()
	}
	return func(s Snapshot) (*impersonation.EWSAuthorizer, error) {
		evs := make([]*impersonation.Evaluator, len(roles))
		for i, r := range roles {
			ev, err := impersonation.Compile(r, s.Directory())
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", r.ImpersonationRoleId, err)
			}
			evs[i] = ev
		}
		return impersonation.NewEWSAuthorizer(impersonation.EWSConfig{
			OrganizationID: orgID, AccessControl: s.Policy(), Roles: evs, Keys: keys, Clock: clock,
		})
	}
}

// Authorizer returns the authorizer of the source's current snapshot, or nil
// (which denies every request) when there is no snapshot or it did not build.
func (e *EWSAuthorizers) Authorizer() *impersonation.EWSAuthorizer {
	s := e.src.Snapshot()
	if s == nil {
		return nil
	}
	var ver uint64
	if e.version != nil {
		ver = e.version()
	}
	if c := e.cur.Load(); c != nil && c.snap == s && c.ver == ver {
		return c.auth
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.cur.Load(); c != nil && c.snap == s && c.ver == ver {
		return c.auth
	}
	a, err := e.build(s)
	if err != nil {
		e.log.Error("EWS impersonation: cannot build the authorizer: impersonated requests are denied",
			"revision", s.Revision(), "error", err)
		a = nil
	}
	e.cur.Store(&ewsAuthEntry{s, ver, a})
	return a
}

// Limits of EWSProxyOptions.MaxSOAPHeader.
const (
	DefaultMaxSOAPHeader = 64 << 10
	MaxMaxSOAPHeader     = 1 << 20
)

// DefaultSOAPHeaderTimeout is EWSProxyOptions.SOAPHeaderTimeout when it is 0.
const DefaultSOAPHeaderTimeout = 30 * time.Second

// EWSProxyOptions configure NewEWSProxy.
type EWSProxyOptions struct {
	// Upstream is the EWS server (http or https URL; its path is prefixed to
	// every request path, as httputil.ProxyRequest.SetURL does); required.
	Upstream *url.URL
	// Authorizers decide impersonated requests; nil denies them all.
	Authorizers *EWSAuthorizers
	// HTTP decides requests without a Bearer token (E7) and supplies the
	// path table and trusted proxies for every request; required (its
	// DeferEWSBearer is ignored here).
	HTTP *HTTPAuthz
	// MaxSOAPHeader is how much of a Bearer request's body is read before it
	// is decided: the SOAP header must end within it. 0 means
	// DefaultMaxSOAPHeader (64 KiB); at most MaxMaxSOAPHeader (1 MiB).
	MaxSOAPHeader int
	// SOAPHeaderTimeout is how long the part of a Bearer request's body
	// that is read before the decision may take to arrive; a client that
	// withholds it is refused (400) instead of holding the connection. The
	// rest of the body then streams without a deadline. 0 means
	// DefaultSOAPHeaderTimeout (30 s). It needs a server whose
	// ResponseWriter supports read deadlines (net/http's does).
	SOAPHeaderTimeout time.Duration
	// Transport carries requests upstream; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Log receives one record per impersonated decision; nil means
	// slog.Default().
	Log *slog.Logger
}

// EWSProxy is the EWS impersonation reverse proxy of SEMANTICS E8, an
// http.Handler with httputil.ReverseProxy underneath.
//
// A request with Authorization: Bearer <token> is impersonated: on a path
// that is not EWS it is refused (A12); otherwise at most MaxSOAPHeader bytes
// of its body are read, ParseEWSRequest finds the
// ExchangeImpersonation/ConnectingSID mailbox and the operation, and the B9
// decision is made for the token, the client address (as HTTPAuthz.Proxies
// says) and the mailbox. A READ_ONLY role is refused every operation that is
// not EWSReadOnly. Any other request is decided as HTTPAuthz decides it (E7).
//
// An allowed request is forwarded untouched (headers as the client sent them,
// but hop-by-hop ones, with X-Forwarded-For/-Host/-Proto set; the body byte
// for byte, the read prefix re-joined with the rest and streamed). Refusals:
//
//	401  Bearer token that does not verify (WWW-Authenticate: Bearer
//	     error="invalid_token"), or no user for a request without a token
//	403  everything else: rules, role, READ_ONLY write, no or ambiguous or
//	     oversized SOAP header, DTD, malformed XML, Bearer off EWS
//	400  the body could not be read
//
// with a SOAP fault body for impersonated requests. An EWSProxy is safe for
// concurrent use. Build one with NewEWSProxy.
type EWSProxy struct {
	opts    EWSProxyOptions
	limit   int
	timeout time.Duration
	log     *slog.Logger
	rp      *httputil.ReverseProxy
}

// NewEWSProxy checks opts and builds the proxy.
func NewEWSProxy(opts EWSProxyOptions) (*EWSProxy, error) {
	switch {
	case opts.Upstream == nil || (opts.Upstream.Scheme != "http" && opts.Upstream.Scheme != "https") || opts.Upstream.Host == "":
		return nil, errors.New("EWS proxy: the upstream must be an http:// or https:// URL with a host")
	case opts.HTTP == nil:
		return nil, errors.New("EWS proxy: an HTTPAuthz is required for requests without a token")
	case opts.MaxSOAPHeader < 0 || opts.MaxSOAPHeader > MaxMaxSOAPHeader:
		return nil, fmt.Errorf("EWS proxy: the SOAP header limit must be 0 (default) to %d bytes", MaxMaxSOAPHeader)
	case opts.SOAPHeaderTimeout < 0:
		return nil, errors.New("EWS proxy: negative SOAP header timeout")
	}
	p := &EWSProxy{opts: opts, limit: opts.MaxSOAPHeader, timeout: opts.SOAPHeaderTimeout, log: opts.Log}
	if p.limit == 0 {
		p.limit = DefaultMaxSOAPHeader
	}
	if p.timeout == 0 {
		p.timeout = DefaultSOAPHeaderTimeout
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	up := *opts.Upstream
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&up)
			pr.Out.Host = pr.In.Host
			if xff := pr.In.Header["X-Forwarded-For"]; xff != nil {
				pr.Out.Header["X-Forwarded-For"] = xff
			}
			pr.SetXForwarded()
		},
		Transport:  opts.Transport,
		BufferPool: copyBuffers{},
		ErrorLog:   slog.NewLogLogger(p.log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("EWS proxy: upstream failed", "error", err, "path", r.URL.Path)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return p, nil
}

// copyBuffers lends the 32 KiB buffers ReverseProxy copies response bodies
// with (it would allocate one per request).
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (copyBuffers) Get() []byte  { return copyBufferPool.Get().(*[32 << 10]byte)[:] }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put((*[32 << 10]byte)(b)) }

var ewsDecisionPool = sync.Pool{New: func() any { return new(impersonation.EWSDecision) }}

// ServeHTTP decides one request and forwards it when allowed.
func (p *EWSProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind, token := credentials(r.Header, p.opts.HTTP.UserHeader)
	if kind != credBearer {
		p.serveHTTPAuthz(w, r)
		return
	}
	ctx := r.Context()
	ev := ewsEvent{method: r.Method}
	clean, err := CleanPath(r.RequestURI)
	if err != nil {
		ev.path = r.URL.Path
		p.refuse(ctx, w, ev, http.StatusForbidden, "malformed path")
		return
	}
	ev.path = clean
	if p.opts.HTTP.paths().Action(clean) != accessctl.EWS {
		p.refuse(ctx, w, ev, http.StatusForbidden, "impersonation token on a path that is not EWS (A12)")
		return
	}
	client, err := p.opts.HTTP.clientOf(r)
	if err != nil {
		p.refuse(ctx, w, ev, http.StatusForbidden, err.Error())
		return
	}
	ev.client = client
	// The decision waits for the SOAP header: bound how long (the listener
	// has no read timeout, since allowed bodies stream), then lift the
	// deadline for the rest.
	rc := http.NewResponseController(w)
	deadline := rc.SetReadDeadline(time.Now().Add(p.timeout)) == nil
	prefix, complete, err := readPrefix(r.Body, p.limit, r.ContentLength)
	if deadline && err == nil {
		rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		p.refuse(ctx, w, ev, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	req, err := ParseEWSRequest(prefix, complete)
	if err != nil {
		p.refuse(ctx, w, ev, http.StatusForbidden, err.Error())
		return
	}
	ev.op, ev.target = req.Operation, req.Target
	if !req.Impersonated {
		p.refuse(ctx, w, ev, http.StatusForbidden, "impersonation token without an ExchangeImpersonation header")
		return
	}
	var auth *impersonation.EWSAuthorizer
	if p.opts.Authorizers != nil {
		auth = p.opts.Authorizers.Authorizer()
	}
	d := ewsDecisionPool.Get().(*impersonation.EWSDecision)
	defer ewsDecisionPool.Put(d)
	auth.AuthorizeTo(d, token, client, req.Target)
	ev.d = d
	switch {
	case d.Failed == impersonation.StepToken:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		p.refuse(ctx, w, ev, http.StatusUnauthorized, "token: "+tokenReason(d.TokenErr))
		return
	case !d.Allowed:
		p.refuse(ctx, w, ev, http.StatusForbidden, d.Failed.String())
		return
	case d.Type == impersonation.ReadOnly && !EWSReadOnly(req.Operation):
		p.refuse(ctx, w, ev, http.StatusForbidden, "READ_ONLY role: the operation may change the mailbox")
		return
	}
	p.logEvent(ctx, slog.LevelInfo, ev, "ALLOW", "allowed")
	r.Body = &joinedBody{Reader: io.MultiReader(bytes.NewReader(prefix), r.Body), c: r.Body}
	p.rp.ServeHTTP(w, r)
}

// serveHTTPAuthz decides a request without an impersonation token as
// HTTPAuthz does, and forwards it when allowed.
func (p *EWSProxy) serveHTTPAuthz(w http.ResponseWriter, r *http.Request) {
	_, status, _ := p.opts.HTTP.check(r.Context(), r, r.RequestURI, r.Method)
	switch status {
	case http.StatusOK:
		p.rp.ServeHTTP(w, r)
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="`+p.opts.HTTP.realm()+`", charset="UTF-8"`)
		w.Header().Set("Connection", "close") // see refuse
		http.Error(w, "authentication required", status)
	default:
		w.Header().Set("Connection", "close")
		http.Error(w, "access denied", http.StatusForbidden)
	}
}

// joinedBody is the request body re-joined: the prefix read, then the rest.
type joinedBody struct {
	io.Reader
	c io.Closer
}

func (b *joinedBody) Close() error { return b.c.Close() }

// readPrefix reads the first bytes of body: all of it when it is at most
// limit bytes (complete), else exactly limit bytes. cl is the request's
// ContentLength (-1 when unknown): a known length sizes the buffer.
func readPrefix(body io.Reader, limit int, cl int64) ([]byte, bool, error) {
	if body == nil || body == http.NoBody {
		return nil, true, nil
	}
	size := 4 << 10
	if cl >= 0 && cl < int64(limit) {
		size = int(cl) + 1 // +1: EOF is seen without growing
	}
	size = min(size, limit)
	buf := make([]byte, size)
	n := 0
	for n < limit {
		if n == len(buf) {
			nb := make([]byte, min(2*len(buf), limit))
			copy(nb, buf)
			buf = nb
		}
		m, err := body.Read(buf[n:])
		n += m
		if err == io.EOF {
			return buf[:n], true, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
	return buf[:n], false, nil
}

func tokenReason(err error) string {
	var te *impersonation.TokenError
	if errors.As(err, &te) {
		return te.Reason.String()
	}
	if err == nil {
		return "no authorizer"
	}
	return err.Error()
}

// ewsEvent is what the log says about one impersonated request.
type ewsEvent struct {
	method, path string
	client       netip.Addr
	op, target   string
	d            *impersonation.EWSDecision
}

func (p *EWSProxy) refuse(ctx context.Context, w http.ResponseWriter, ev ewsEvent, status int, reason string) {
	p.logEvent(ctx, slog.LevelWarn, ev, "DENY", reason)
	fault := faultAccessDenied
	switch status {
	case http.StatusUnauthorized:
		fault = faultInvalidToken
	case http.StatusBadRequest:
		fault = faultBadRequest
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Close the connection after the refusal: net/http would otherwise
	// read the rest of an unread body (up to 256 KiB) before answering,
	// with no deadline, for as long as the client withholds it.
	h.Set("Connection", "close")
	w.WriteHeader(status)
	io.WriteString(w, fault)
}

// SOAP faults of refusals: fixed texts that never echo the request.
const (
	faultHead         = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>`
	faultTail         = `</faultstring></s:Fault></s:Body></s:Envelope>`
	faultAccessDenied = faultHead + `ErrorImpersonateUserDenied: the impersonation is not allowed` + faultTail
	faultInvalidToken = faultHead + `ErrorInvalidToken: the impersonation token is not valid` + faultTail
	faultBadRequest   = faultHead + `ErrorInvalidRequest: the request body could not be read` + faultTail
)

func (p *EWSProxy) logEvent(ctx context.Context, level slog.Level, ev ewsEvent, effect, reason string) {
	if !p.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("protocol", "ews-impersonation"),
		slog.String("client", ev.client.String()),
		slog.String("method", logged(ev.method)),
		slog.String("path", logged(ev.path)),
		slog.String("operation", logged(ev.op)),
		slog.String("target", ev.target),
		slog.String("effect", effect),
		slog.String("reason", reason),
	}
	if d := ev.d; d != nil {
		attrs = append(attrs, slog.String("role", d.Claims.RoleID), slog.String("type", d.Type.String()),
			slog.String("user", d.Role.UserID), slog.String("failed_step", d.Failed.String()),
			slog.Any("access_rules", d.AccessControl.MatchedRules))
		if d.AccessControlErr != nil {
			attrs = append(attrs, slog.String("access_error", d.AccessControlErr.Error()))
		}
		if d.RoleErr != nil {
			attrs = append(attrs, slog.String("role_error", d.RoleErr.Error()))
		}
		rules := make([]string, len(d.Role.MatchedRules))
		for i, m := range d.Role.MatchedRules {
			rules[i] = m.ImpersonationRuleId
		}
		attrs = append(attrs, slog.Any("role_rules", rules))
	}
	p.log.LogAttrs(ctx, level, "decision", attrs...)
}
