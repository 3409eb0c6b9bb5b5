package awsapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

// Limits and names of the protocol (SEMANTICS F1, F2).
const (
	// MaxBodyBytes is the default largest request body: a longer one is
	// refused (HTTP 413) before it is read whole.
	MaxBodyBytes = 1 << 20
	// DefaultRegion is the region signatures are scoped to by default (F3).
	DefaultRegion = "us-east-1"
	// ContentType is the media type of awsJson1_1 requests and responses.
	ContentType = "application/x-amz-json-1.1"
	// TargetPrefix prefixes the operation in X-Amz-Target.
	TargetPrefix = "WorkMailService."
)

// Options configure NewHandler.
type Options struct {
	// Store runs the operations; required.
	Store *org.Store
	// Credentials are the access keys accepted (LoadCredentials). Required
	// unless InsecureNoAuth is set.
	Credentials *Credentials
	// InsecureNoAuth turns signature verification off (SEMANTICS F3): every
	// request acts with full rights. The handler then still refuses any
	// request whose peer (http.Request.RemoteAddr) is not a loopback address,
	// and the caller must listen on loopback only (wmpolicy serve refuses
	// anything else).
	InsecureNoAuth bool
	// Region is the region signatures must be scoped to; "" means
	// DefaultRegion (us-east-1).
	Region string
	// Clock returns the current time for the X-Amz-Date window; nil means
	// time.Now.
	Clock func() time.Time
	// Logger, when not nil, gets one Info line per request: operation,
	// organization, access key ID, outcome (OK or the error code), HTTP
	// status and latency. Never a secret, a signature or a request body.
	Logger *slog.Logger
	// MaxBodyBytes is the largest request body; 0 means MaxBodyBytes (1 MiB).
	MaxBodyBytes int64
}

// Handler serves the WorkMail API over HTTP (SEMANTICS F1–F3): awsJson1_1
// requests (POST /, X-Amz-Target: WorkMailService.<Operation>, a JSON body
// of the model's request shape, decoded strictly), signed with AWS
// Signature Version 4, answered by an org.Store. It implements every
// operation of the store that the model defines, the user operations of F4
// included (Operations lists them); every other operation of the model
// answers UnsupportedOperationException, any other target
// UnknownOperationException. Errors are HTTP 400 (authentication and access
// failures 403, an oversized body 413, an internal failure 500) with
// {"__type": CODE, "message": …}; a refused request changes nothing.
//
// A Handler is safe for concurrent use and holds no per-request state; build
// one with NewHandler. Cost per request: reading the body (bounded), one
// SigV4 verification (two SHA-256 hashes and one HMAC over the request, the
// derived key cached per key, date and region), the strict decoding of the
// body and the store's operation.
type Handler struct {
	store   *org.Store
	creds   *Credentials
	noAuth  bool
	region  string
	clock   func() time.Time
	log     *slog.Logger
	maxBody int64
	keys    keyCache
}

// NewHandler returns a Handler for opts. It fails when Store is nil, or when
// Credentials is nil without InsecureNoAuth.
func NewHandler(opts Options) (*Handler, error) {
	if opts.Store == nil {
		return nil, errors.New("awsapi: Options.Store is required")
	}
	if opts.Credentials == nil && !opts.InsecureNoAuth {
		return nil, errors.New("awsapi: Options.Credentials is required unless InsecureNoAuth is set")
	}
	h := &Handler{store: opts.Store, creds: opts.Credentials, noAuth: opts.InsecureNoAuth, region: opts.Region,
		clock: opts.Clock, log: opts.Logger, maxBody: opts.MaxBodyBytes}
	if h.region == "" {
		h.region = DefaultRegion
	}
	if h.clock == nil {
		h.clock = time.Now
	}
	if h.maxBody <= 0 {
		h.maxBody = MaxBodyBytes
	}
	return h, nil
}

// apiError is an error answer: HTTP status, AWS code, message.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// Error answers of the protocol itself (SEMANTICS F2, F3).
func unknownOperation(target string) *apiError {
	return &apiError{http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("unknown operation %q", clip(target))}
}

// outcome is what one request came to, for the log line.
type outcome struct {
	op, orgID, keyID, code string
	status                 int
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.clock()
	var oc outcome
	defer func() {
		if p := recover(); p != nil {
			// Never a crash (F2): the store is consistent, since a mutation
			// publishes nothing before it succeeds.
			h.writeError(w, &apiError{http.StatusInternalServerError, "InternalFailure", "internal failure"}, &oc)
			if h.log != nil {
				h.log.Error("api panic", "operation", oc.op, "panic", fmt.Sprint(p))
			}
		}
		if h.log != nil {
			h.log.LogAttrs(r.Context(), slog.LevelInfo, "api",
				slog.String("operation", oc.op), slog.String("organization", oc.orgID), slog.String("key", oc.keyID),
				slog.String("outcome", oc.code), slog.Int("status", oc.status),
				slog.Duration("latency", time.Since(start)), slog.String("peer", r.RemoteAddr))
		}
	}()
	out, err := h.serve(r, &oc)
	if err != nil {
		h.writeError(w, err, &oc)
		return
	}
	b, merr := json.Marshal(out)
	if merr != nil {
		h.writeError(w, &apiError{http.StatusInternalServerError, "InternalFailure", "internal failure"}, &oc)
		return
	}
	oc.code, oc.status = "OK", http.StatusOK
	hd := w.Header()
	hd.Set("Content-Type", ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	hd.Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// serve runs one request: the protocol checks, authentication, the
// operation. Its error is an *apiError, or a store error.
func (h *Handler) serve(r *http.Request, oc *outcome) (any, error) {
	if r.Method != http.MethodPost {
		return nil, &apiError{http.StatusMethodNotAllowed, "UnknownOperationException", "only POST / is served"}
	}
	if r.URL.Path != "/" {
		return nil, &apiError{http.StatusNotFound, "UnknownOperationException", "only POST / is served"}
	}
	target := r.Header.Get("X-Amz-Target")
	oc.op = strings.TrimPrefix(target, TargetPrefix)
	if len(oc.op) > 64 {
		oc.op = oc.op[:64]
	}
	if r.ContentLength > h.maxBody {
		return nil, tooLarge(h.maxBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.maxBody+1))
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", "the request body could not be read"}
	}
	if int64(len(body)) > h.maxBody {
		return nil, tooLarge(h.maxBody)
	}
	var key *Key
	if h.noAuth {
		if !loopbackPeer(r.RemoteAddr) {
			return nil, &apiError{http.StatusForbidden, "AccessDeniedException", "authentication is off: only loopback clients are served"}
		}
	} else {
		k, aerr := h.verify(r, body)
		if aerr != nil {
			return nil, &apiError{http.StatusForbidden, aerr.code, aerr.msg}
		}
		key, oc.keyID = k, k.AccessKeyId
	}
	name, ok := strings.CutPrefix(target, TargetPrefix)
	if !ok {
		return nil, unknownOperation(target)
	}
	op, ok := operations[name]
	if !ok {
		if modelOperations[name] {
			return nil, &apiError{http.StatusBadRequest, "UnsupportedOperationException", fmt.Sprintf("wmpolicy does not implement %s", name)}
		}
		return nil, unknownOperation(target)
	}
	if ct := r.Header.Get("Content-Type"); ct != ContentType && !strings.HasPrefix(ct, ContentType+";") {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", "Content-Type must be " + ContentType}
	}
	if key != nil && key.ReadOnly && op.write {
		return nil, &apiError{http.StatusForbidden, "AccessDeniedException", fmt.Sprintf("the key %s is read-only: it may not call %s", key.AccessKeyId, name)}
	}
	if !json.Valid(body) {
		return nil, &apiError{http.StatusBadRequest, "SerializationException", "the request body is not valid JSON"}
	}
	allow := func(orgID string) error {
		oc.orgID = orgID
		if key == nil || key.Organizations == nil {
			return nil
		}
		if orgID == "" {
			// An operation outside any organization (CreateOrganization)
			// needs a key of every organization [decided].
			return &apiError{http.StatusForbidden, "AccessDeniedException", fmt.Sprintf("the key %s is limited to some organizations: it may not call %s", key.AccessKeyId, name)}
		}
		if !key.allows(orgID) {
			return &apiError{http.StatusForbidden, "AccessDeniedException", fmt.Sprintf("the key %s may not act on organization %s", key.AccessKeyId, clip(orgID))}
		}
		return nil
	}
	return op.run(r.Context(), h, key, body, allow)
}

func tooLarge(max int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, "SerializationException", fmt.Sprintf("the request body is larger than %d bytes", max)}
}

// loopbackPeer reports whether a RemoteAddr is a loopback address.
func loopbackPeer(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// writeError writes an error answer: an *apiError as it is, a store error
// (*policy.Error, policy.ErrorList) as HTTP 400 with its code and its
// problems, anything else as HTTP 500 InternalFailure (logged, not shown).
func (h *Handler) writeError(w http.ResponseWriter, err error, oc *outcome) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if errs := policy.Errors(err); len(errs) > 0 {
			ae = &apiError{http.StatusBadRequest, string(errs[0].Code), policyMessage(errs)}
		} else {
			if h.log != nil {
				h.log.Error("api internal failure", "operation", oc.op, "organization", oc.orgID, "error", err.Error())
			}
			ae = &apiError{http.StatusInternalServerError, "InternalFailure", "internal failure"}
		}
	}
	oc.code, oc.status = ae.code, ae.status
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{ae.code, ae.msg})
	hd := w.Header()
	hd.Set("Content-Type", ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	hd.Set("X-Amzn-Requestid", requestID())
	hd.Set("X-Amzn-Errortype", ae.code)
	w.WriteHeader(ae.status)
	w.Write(b)
}

// policyMessage joins the problems of the first error's code into one
// message, each as "Path: message" (at most ten, then a count).
func policyMessage(errs []*policy.Error) string {
	var b strings.Builder
	n := 0
	for _, e := range errs {
		if e.Code != errs[0].Code {
			continue
		}
		if n == 10 {
			fmt.Fprintf(&b, "; and more")
			break
		}
		if n > 0 {
			b.WriteString("; ")
		}
		if e.Path != "" {
			b.WriteString(e.Path)
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
		n++
	}
	return strings.ToValidUTF8(b.String(), "?")
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeBody decodes a request body strictly into v (SEMANTICS D2): every
// problem is a ValidationException with its path.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &apiError{http.StatusBadRequest, "SerializationException", "the request body is empty: want a JSON object"}
	}
	return policy.DecodeStrict(body, v)
}
