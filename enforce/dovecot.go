package enforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// DefaultMaxBody bounds the body of a Dovecot policy request when
// DovecotOptions.MaxBody is 0. Dovecot's default request attributes take a
// few hundred bytes.
const DefaultMaxBody = 64 << 10

// DovecotOptions configure a DovecotPolicy. The zero value decides IMAP,
// submission and SMTP logins, denies every POP3 login and asks for no API
// header.
type DovecotOptions struct {
	// POP3 is the action POP3 logins are decided as (IMAP, say); 0, the
	// default, denies every POP3 login (E2: there is no default mapping).
	POP3 accessctl.Action
	// APIHeader and APIKey: when APIHeader is set, every request must carry
	// that header with the value APIKey, compared in constant time, or it is
	// refused (E4). Dovecot sends it when configured with
	// auth_policy_server_api_header = APIHeader: APIKey (without a colon
	// Dovecot sends the value in X-API-Key).
	APIHeader, APIKey string
	// MaxBody bounds a request's body; 0 means DefaultMaxBody. A larger body
	// is refused.
	MaxBody int64
}

// DovecotPolicy is a Dovecot authentication policy server (SEMANTICS E4): an
// http.Handler for auth_policy_server_url. Dovecot POSTs the JSON attributes
// of a login to URL?command=allow; the handler decides the login (from the
// default attributes login, remote and protocol) and answers
// {"status":0} to accept or {"status":-1,"msg":"Access denied by policy"} to
// refuse. command=report is acknowledged with {"status":0} and decides
// nothing.
//
// Every problem refuses in the protocol's own way, with HTTP 200 and status
// -1 so that Dovecot refuses even without auth_policy_reject_on_fail: a
// missing or wrong API header, a body that is not one JSON object or whose
// login, remote or protocol is not a string or appears twice (keys match as
// encoding/json matches them, case-insensitively, so "login" and "Login"
// are twice), a body over MaxBody, an unknown command. A report whose body
// is malformed gets status -1 too. Only a method other than POST gets an
// HTTP error (405).
//
// A DovecotPolicy is safe for concurrent use. Each decision is logged once by
// the Decider; refused malformed requests are logged at WARN. The zero
// DovecotPolicy refuses every login (make one with NewDovecotPolicy).
type DovecotPolicy struct {
	d      *Decider
	opts   DovecotOptions
	key    secret
	decide decideFunc
}

// NewDovecotPolicy returns the policy server deciding through d. It fails when
// d has no Source, when only one of APIHeader and APIKey is set, or when POP3
// is not a valid action.
func NewDovecotPolicy(d *Decider, opts DovecotOptions) (*DovecotPolicy, error) {
	if err := checkDecider(d); err != nil {
		return nil, err
	}
	if err := checkPOP3(opts.POP3); err != nil {
		return nil, err
	}
	key, err := newSecret(opts.APIHeader, opts.APIKey)
	if err != nil {
		return nil, err
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	return &DovecotPolicy{d: d, opts: opts, key: key, decide: d.Decide}, nil
}

// dovecotRequest holds the attributes the policy uses; Dovecot sends every
// attribute as a JSON string, and the others are ignored.
type dovecotRequest struct {
	Login    dovecotAttr `json:"login"`
	Remote   dovecotAttr `json:"remote"`
	Protocol dovecotAttr `json:"protocol"`
}

// decode reads body, which must be one JSON object, into r.
func (r *dovecotRequest) decode(body []byte) error {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(body, r)
}

// dovecotAttr is one attribute's string value (null counts as ""). An
// attribute that appears twice is an error: encoding/json would keep the
// last value and so decide on one the request also contradicts. Keys match
// as encoding/json matches them, so "Login" alone is login, and "login"
// with "Login" appears twice.
type dovecotAttr struct {
	s   string
	set bool
}

var errDovecotTwice = errors.New("an attribute appears twice")

func (a *dovecotAttr) UnmarshalJSON(b []byte) error {
	if a.set {
		return errDovecotTwice
	}
	a.set = true
	// encoding/json has checked b's syntax: a string without escapes and
	// in valid UTF-8 is its bytes between the quotes.
	if len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		a.s = string(b[1 : len(b)-1])
		return nil
	}
	return json.Unmarshal(b, &a.s)
}

var (
	dovecotAccept = []byte(`{"status":0}`)
	dovecotRefuse = []byte(`{"status":-1,"msg":"` + DenyMessage + `"}`)
)

// ServeHTTP answers one Dovecot policy request.
func (h *DovecotPolicy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the Dovecot auth policy protocol POSTs", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	ctx := r.Context()
	refuse := func(reason string, err error) {
		h.d.logger().LogAttrs(ctx, slog.LevelWarn, "refused malformed request",
			slog.String("protocol", "dovecot"), slog.String("reason", reason), slog.Any("error", err))
		w.Write(dovecotRefuse)
	}
	if h.decide == nil {
		refuse("no Decider (zero DovecotPolicy)", nil)
		return
	}
	if !h.key.ok(r.Header.Values(h.key.name)) {
		refuse("missing or wrong API header", nil)
		return
	}
	bp := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(bp)
	body, err := readBody(r.Body, (*bp)[:0], h.opts.MaxBody)
	*bp = body[:0]
	if err != nil {
		refuse("unreadable or too large body", err)
		return
	}
	var req dovecotRequest
	if err := req.decode(body); err != nil {
		refuse("body is not a JSON object of string attributes", err)
		return
	}
	switch queryValue(r.URL.RawQuery, "command") {
	case "allow":
	case "report":
		w.Write(dovecotAccept)
		return
	default:
		refuse("command is neither allow nor report", nil)
		return
	}
	a := answerPool.Get().(*Answer)
	defer answerPool.Put(a)
	client, _ := netip.ParseAddr(req.Remote.s) // invalid: the Decider denies it (E2)
	h.decide(ctx, Question{
		Protocol: req.Protocol.s,
		Client:   client,
		Login:    req.Login.s,
		Action:   protocolAction(req.Protocol.s, h.opts.POP3),
	}, a)
	if a.Allow {
		w.Write(dovecotAccept)
		return
	}
	w.Write(dovecotRefuse)
}

// bodyPool holds request body buffers.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

var errBodyTooLarge = errors.New("body larger than the configured limit")

// readBody appends r's contents to buf, failing once they pass limit bytes.
func readBody(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// queryValue returns the first value of key in a raw query string, decoded;
// "" when absent or undecodable.
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			v, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return v
		}
		return v
	}
	return ""
}
