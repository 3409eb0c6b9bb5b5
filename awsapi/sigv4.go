package awsapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AWS Signature Version 4, verified as the AWS General Reference describes
// it ("Create a signed AWS API request"): the canonical request
//
//	METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n hex(SHA-256(body))
//
// the string to sign
//
//	AWS4-HMAC-SHA256 \n X-Amz-Date \n DATE/REGION/SERVICE/aws4_request \n hex(SHA-256(canonical request))
//
// and the signing key HMAC(HMAC(HMAC(HMAC("AWS4"+secret, DATE), REGION), SERVICE), "aws4_request").

const (
	sigAlgorithm  = "AWS4-HMAC-SHA256"
	sigService    = "workmail"
	sigTerminator = "aws4_request"
	amzDateLayout = "20060102T150405Z"
	// ClockSkew is how far X-Amz-Date may be from the server's clock (F3).
	ClockSkew = 15 * time.Minute
	// maxAuthorization bounds the Authorization header the parser reads.
	maxAuthorization = 4096
)

// authHeader is a parsed Authorization header.
type authHeader struct {
	accessKeyID string
	date        string // YYYYMMDD of the credential scope
	region      string
	service     string
	signedRaw   string // lowercase names, strictly ascending, ';'-separated
	signsHost   bool   // SignedHeaders holds host
	signsDate   bool   // SignedHeaders holds x-amz-date
	signsTarget bool   // SignedHeaders holds x-amz-target
	signature   [32]byte
}

// authError is a refusal of authentication: an AWS code and message.
type authError struct {
	code, msg string
}

func (e *authError) Error() string { return e.code + ": " + e.msg }

func incomplete(msg string) *authError {
	return &authError{"IncompleteSignatureException", msg}
}

func invalidSig(msg string) *authError {
	return &authError{"InvalidSignatureException", msg}
}

// parseAuthorization parses an Authorization header of SigV4:
//
//	AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b;c, Signature=HEX
//
// The three components may come in any order, each exactly once, separated
// by commas and optional spaces. Anything else is IncompleteSignatureException.
func parseAuthorization(h string) (authHeader, *authError) {
	var a authHeader
	if len(h) > maxAuthorization {
		return a, incomplete("the Authorization header is too long")
	}
	rest, ok := strings.CutPrefix(h, sigAlgorithm+" ")
	if !ok {
		return a, incomplete("the Authorization header must start with " + sigAlgorithm)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimLeft(part, " ")
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("malformed Authorization component")
		}
		switch name {
		case "Credential":
			if haveCred {
				return a, incomplete("Credential appears twice")
			}
			cred, haveCred = val, true
		case "SignedHeaders":
			if haveSigned {
				return a, incomplete("SignedHeaders appears twice")
			}
			signed, haveSigned = val, true
		case "Signature":
			if haveSig {
				return a, incomplete("Signature appears twice")
			}
			sig, haveSig = val, true
		default:
			return a, incomplete("unknown Authorization component")
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		return a, incomplete("the Authorization header needs Credential, SignedHeaders and Signature")
	}
	var parts [5]string
	rest2 := cred
	for i := range parts {
		if i == 4 {
			parts[i] = rest2
			break
		}
		var ok bool
		parts[i], rest2, ok = strings.Cut(rest2, "/")
		if !ok {
			return a, incomplete("Credential must be KEY/DATE/REGION/SERVICE/aws4_request")
		}
	}
	if parts[0] == "" || parts[2] == "" || parts[3] == "" || strings.Contains(parts[4], "/") {
		return a, incomplete("Credential must be KEY/DATE/REGION/SERVICE/aws4_request")
	}
	if parts[4] != sigTerminator {
		return a, incomplete("the credential scope must end with aws4_request")
	}
	if len(parts[1]) != 8 || !allDigits(parts[1]) {
		return a, incomplete("the credential scope's date must be YYYYMMDD")
	}
	a.accessKeyID, a.date, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	if signed == "" {
		return a, incomplete("SignedHeaders is empty")
	}
	a.signedRaw = signed
	prev := ""
	for rest := signed; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if name == "" || !isLowerHeaderToken(name) {
			return a, incomplete("SignedHeaders must be lowercase header names separated by semicolons")
		}
		if prev != "" && name <= prev {
			return a, incomplete("SignedHeaders must be sorted and without repeats")
		}
		prev = name
		a.signsHost = a.signsHost || name == "host"
		a.signsDate = a.signsDate || name == "x-amz-date"
		a.signsTarget = a.signsTarget || name == "x-amz-target"
	}
	if strings.HasSuffix(signed, ";") {
		return a, incomplete("SignedHeaders must be lowercase header names separated by semicolons")
	}
	if len(sig) != 64 || !lowerHex(sig) {
		return a, incomplete("Signature must be 64 lowercase hexadecimal digits")
	}
	if _, err := hex.Decode(a.signature[:], []byte(sig)); err != nil {
		return a, incomplete("Signature must be 64 lowercase hexadecimal digits")
	}
	return a, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isLowerHeaderToken reports whether s is an HTTP token (RFC 9110 tchar)
// without uppercase letters.
func isLowerHeaderToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// lowerHex reports whether s is lowercase hexadecimal digits only.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// sigEncode appends s percent-encoded as SigV4 wants it: every byte but the
// unreserved characters A-Z a-z 0-9 - _ . ~ as %XX with uppercase hex.
func sigEncode(b []byte, s string) []byte {
	const hexd = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b = append(b, c)
		} else {
			b = append(b, '%', hexd[c>>4], hexd[c&15])
		}
	}
	return b
}

// canonicalQuery returns the canonical query string of a raw query:
// parameters decoded, re-encoded, sorted by name then value.
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var ps []kv
	for p := range strings.SplitSeq(raw, "&") {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if d, err := url.PathUnescape(k); err == nil {
			k = d
		}
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
		ps = append(ps, kv{string(sigEncode(nil, k)), string(sigEncode(nil, v))})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.k...)
		b = append(b, '=')
		b = append(b, p.v...)
	}
	return string(b)
}

// canonicalValue trims a header value and collapses runs of spaces and tabs
// to one space.
func canonicalValue(b []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return b
}

// canonicalRequest builds the canonical request of r with the given signed
// headers (lowercase, ';'-separated) and payload hash (hex), appended to b.
// A signed header absent from the request is an error. The canonical URI is
// r.URL.EscapedPath() URI-encoded once more, as for every service but S3
// (the handler only serves "/").
func canonicalRequest(b []byte, r *http.Request, signedRaw string, payloadHash []byte) ([]byte, *authError) {
	b = append(b, r.Method...)
	b = append(b, '\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	for first := true; ; first = false {
		seg, rest, more := strings.Cut(path, "/")
		if !first {
			b = append(b, '/')
		}
		b = sigEncode(b, seg)
		if !more {
			break
		}
		path = rest
	}
	b = append(b, '\n')
	b = append(b, canonicalQuery(r.URL.RawQuery)...)
	b = append(b, '\n')
	for rest := signedRaw; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		b = append(b, name...)
		b = append(b, ':')
		if name == "host" {
			b = canonicalValue(b, r.Host)
		} else {
			key, ok := commonHeaders[name]
			if !ok {
				key = textproto.CanonicalMIMEHeaderKey(name)
			}
			vs := r.Header[key]
			if len(vs) == 0 {
				return nil, invalidSig("the signed header " + clip(name) + " is not in the request")
			}
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = canonicalValue(b, v)
			}
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, signedRaw...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b, nil
}

// commonHeaders maps the signed header names SDKs send to their canonical
// form in http.Header, saving CanonicalMIMEHeaderKey's allocation.
var commonHeaders = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Content-Type", "Content-Length", "X-Amz-Date", "X-Amz-Target", "X-Amz-Content-Sha256",
		"X-Amz-Security-Token", "X-Amz-User-Agent", "User-Agent", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "Accept-Encoding"} {
		m[strings.ToLower(n)] = n
	}
	return m
}()

// appendStringToSign appends SigV4's string to sign to b.
func appendStringToSign(b []byte, amzDate, date, region, service string, canonical []byte) []byte {
	h := sha256.Sum256(canonical)
	b = append(b, sigAlgorithm+"\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = appendScope(b, date, region, service)
	b = append(b, '\n')
	return hex.AppendEncode(b, h[:])
}

func appendScope(b []byte, date, region, service string) []byte {
	b = append(b, date...)
	b = append(b, '/')
	b = append(b, region...)
	b = append(b, '/')
	b = append(b, service...)
	return append(b, "/"+sigTerminator...)
}

// stringToSign is SigV4's string to sign (for tests).
func stringToSign(amzDate, scope, canonical string) string {
	parts := strings.SplitN(scope, "/", 4)
	return string(appendStringToSign(nil, amzDate, parts[0], parts[1], parts[2], []byte(canonical)))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// signingKey derives SigV4's signing key.
func signingKey(secret, date, region, service string) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, sigTerminator)
	return [32]byte(k)
}

// keyCache caches derived signing keys per (access key, date, region): a
// derivation is four HMACs. Each entry also pools HMAC states keyed with its
// signing key, so that the request's own HMAC allocates nothing. Bounded:
// it is emptied when it reaches maxCachedKeys entries (dates roll over
// daily). Safe for concurrent use; a hit takes no lock.
type keyCache struct {
	m sync.Map // cacheKey → *signer
	n atomic.Int64
}

type cacheKey struct{ id, date, region string }

// signer is a cached signing key with a pool of HMAC states keyed with it.
type signer struct {
	pool sync.Pool // *macState
}

// macState is an HMAC keyed with a signing key and a buffer for its sum
// (a sum into the caller's stack would escape through the interface call).
type macState struct {
	h   hash.Hash
	out [sha256.Size]byte
}

// sum returns HMAC-SHA-256(signing key, msg) without allocating.
func (sg *signer) sum(msg []byte) [sha256.Size]byte {
	m := sg.pool.Get().(*macState)
	m.h.Reset()
	m.h.Write(msg)
	m.h.Sum(m.out[:0])
	out := m.out
	sg.pool.Put(m)
	return out
}

const maxCachedKeys = 4096

func (c *keyCache) get(k *Key, date, region string) *signer {
	ck := cacheKey{k.AccessKeyId, date, region}
	if v, ok := c.m.Load(ck); ok {
		return v.(*signer)
	}
	sk := signingKey(k.SecretAccessKey, date, region, sigService)
	sg := &signer{}
	sg.pool.New = func() any { return &macState{h: hmac.New(sha256.New, sk[:])} }
	if c.n.Add(1) > maxCachedKeys {
		c.m.Clear()
		c.n.Store(1)
	}
	v, _ := c.m.LoadOrStore(ck, sg)
	return v.(*signer)
}

// scratch buffers of verify (canonical request, string to sign).
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// parseAmzDate parses X-Amz-Date (YYYYMMDDTHHMMSSZ) without time.Parse's cost.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' || !allDigits(s[:8]) || !allDigits(s[9:15]) {
		return time.Time{}, false
	}
	n := func(i, j int) int {
		v := 0
		for _, c := range []byte(s[i:j]) {
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, se := n(0, 4), n(4, 6), n(6, 8), n(9, 11), n(11, 13), n(13, 15)
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != se {
		return time.Time{}, false // out of range (month 13, hour 25, …)
	}
	return t, true
}

// verify checks the SigV4 signature of r with body (SEMANTICS F3) and
// returns the key that signed it. Refusals: no Authorization header →
// MissingAuthenticationTokenException; a malformed one →
// IncompleteSignatureException; an unknown access key →
// UnrecognizedClientException; a wrong signature, a scope of another region,
// service or date, a signed-headers list without host, x-amz-date and
// x-amz-target (unsigned, the operation could be swapped for another of the
// same input shape within the clock window: DescribeUser for DeleteUser), or an
// X-Amz-Date more than ClockSkew from now → InvalidSignatureException.
// The signature is compared in constant time.
func (h *Handler) verify(r *http.Request, body []byte) (*Key, *authError) {
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		if r.URL.Query().Has("X-Amz-Signature") {
			return nil, incomplete("query-string (presigned) authentication is not supported")
		}
		return nil, &authError{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	if len(vals) > 1 {
		return nil, incomplete("more than one Authorization header")
	}
	a, aerr := parseAuthorization(vals[0])
	if aerr != nil {
		return nil, aerr
	}
	key, ok := h.creds.Key(a.accessKeyID)
	if !ok {
		return nil, &authError{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if !a.signsHost || !a.signsDate || !a.signsTarget {
		return nil, invalidSig("SignedHeaders must include host, x-amz-date and x-amz-target")
	}
	dates := r.Header["X-Amz-Date"]
	if len(dates) != 1 {
		return nil, incomplete("the request needs exactly one X-Amz-Date header")
	}
	t, ok := parseAmzDate(dates[0])
	if !ok {
		return nil, incomplete("X-Amz-Date must be YYYYMMDDTHHMMSSZ")
	}
	if now := h.clock(); t.Before(now.Add(-ClockSkew)) || t.After(now.Add(ClockSkew)) {
		return nil, invalidSig("Signature expired: X-Amz-Date " + dates[0] + " is more than 15 minutes from the server's time " + now.UTC().Format(amzDateLayout))
	}
	if a.date != dates[0][:8] {
		return nil, invalidSig("the credential scope's date is not the date of X-Amz-Date")
	}
	if a.region != h.region {
		return nil, invalidSig("Credential should be scoped to a valid region, not '" + clip(a.region) + "'; this server is '" + h.region + "'")
	}
	if a.service != sigService {
		return nil, invalidSig("Credential should be scoped to correct service: 'workmail'")
	}
	ph := sha256.Sum256(body)
	var phHex [64]byte
	hex.Encode(phHex[:], ph[:])
	bp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(bp)
	canon, aerr := canonicalRequest((*bp)[:0], r, a.signedRaw, phHex[:])
	if aerr != nil {
		return nil, aerr
	}
	n := len(canon)
	canon = appendStringToSign(canon, dates[0], a.date, a.region, a.service, canon)
	*bp = canon
	want := h.keys.get(key, a.date, a.region).sum(canon[n:])
	if !hmac.Equal(want[:], a.signature[:]) {
		return nil, invalidSig("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
	}
	return key, nil
}

// clip shortens a client's string for a message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// SignRequest signs r, whose body is body, with AWS Signature Version 4 for
// the WorkMail service in region at time t, as an AWS SDK does: it sets
// X-Amz-Date and Authorization, signing host and every header r has. It is
// the client side of Handler's verification, for tests and load programs of
// applications that mount the Handler; a real client uses an AWS SDK.
// Cost: two SHA-256 hashes and five HMACs (the key is derived every call).
func SignRequest(r *http.Request, body []byte, accessKeyID, secret, region string, t time.Time) {
	amz := t.UTC().Format(amzDateLayout)
	r.Header.Set("X-Amz-Date", amz)
	r.Header.Del("Authorization")
	signed := []string{"host"}
	for name := range r.Header {
		signed = append(signed, strings.ToLower(name))
	}
	sort.Strings(signed)
	signedRaw := strings.Join(signed, ";")
	ph := sha256.Sum256(body)
	canon, _ := canonicalRequest(nil, r, signedRaw, hex.AppendEncode(nil, ph[:]))
	date := amz[:8]
	sts := appendStringToSign(nil, amz, date, region, sigService, canon)
	sk := signingKey(secret, date, region, sigService)
	sig := hmacSHA256(sk[:], string(sts))
	scope := string(appendScope(nil, date, region, sigService))
	r.Header.Set("Authorization", sigAlgorithm+" Credential="+accessKeyID+"/"+scope+", SignedHeaders="+signedRaw+", Signature="+hex.EncodeToString(sig))
}
