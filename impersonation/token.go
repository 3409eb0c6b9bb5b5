package impersonation

// Impersonation tokens (SEMANTICS B8): what AssumeImpersonationRole returns and
// what a gateway verifies offline before it lets an impersonated EWS request
// through (B9).
//
// # Format (version 1)
//
//	token   = "v1." base64url(payload) "." base64url(mac)     (no padding)
//	payload = version(1)=0x01
//	          keyIDLen(1) keyID(1–32)
//	          organization(16)        the 32 hex digits of "m-…", as raw bytes
//	          roleIDLen(1) roleID(1–64)
//	          issuedAt(8) expiresAt(8) Unix seconds, big-endian, signed
//	          tokenID(16)             random
//	mac     = HMAC-SHA-256(key, "wmpolicy-impersonation-token-v1\x00" || "v1." base64url(payload))
//
// The MAC covers the token's text itself (not the decoded bytes), so two
// different strings can never share one MAC through a lax base64 encoding, and a
// fixed domain-separation prefix keeps the key from being usable as a MAC for
// anything else. There is no algorithm field: version 1 means HMAC-SHA-256, full
// stop. The full 32-byte MAC is kept: the longest token (32-character key ID,
// 64-character role ID) is 3+196+1+43 = 243 characters, within B8's 256 (a
// compile-time check below enforces the budget).
//
// Verification reads only the version byte and the key ID before the MAC check
// (it needs the key ID to pick the key); it compares MACs with [hmac.Equal] and
// parses the claims only once the MAC has matched. An unknown key ID gets the same
// error as a wrong MAC, after the same amount of work (a MAC is computed under a
// random throw-away key).

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/wmpolicy/wmpolicy/policy"
)

// Token limits (SEMANTICS B8).
const (
	// TokenExpiresIn is the lifetime of an impersonation token in seconds: the
	// ExpiresIn of every AssumeImpersonationRole answer ("must be passed within
	// 15 minutes").
	TokenExpiresIn = 900
	// TokenMaxLen is the longest token the API allows (the model's
	// ImpersonationToken: 1–256 characters of \x21–\x7e).
	TokenMaxLen = 256
	// TokenMaxLeeway is the largest clock-skew allowance a [Verifier] accepts for
	// tokens issued in the future.
	TokenMaxLeeway = 60 * time.Second
)

// Key limits.
const (
	// KeyMinSecretLen is the shortest HMAC secret a [KeyRing] accepts, in bytes
	// (256 bits, the strength of HMAC-SHA-256).
	KeyMinSecretLen = 32
	// KeyMaxIDLen is the longest key ID, in bytes. Key IDs are 1–32 characters
	// of [A-Za-z0-9._-]; they are public (every token carries its key's ID).
	KeyMaxIDLen = 32
)

const (
	tokPrefix       = "v1."
	tokVersion      = 1
	tokDomain       = "wmpolicy-impersonation-token-v1\x00"
	tokMACLen       = sha256.Size
	tokMACLen64     = (tokMACLen*8 + 5) / 6 // 43
	tokIDLen        = 16
	tokOrgLen       = 16
	tokMaxRoleLen   = 64
	tokFixedLen     = 1 + 1 + tokOrgLen + 1 + 8 + 8 + tokIDLen // payload without key ID and role ID
	tokMaxPayload   = tokFixedLen + KeyMaxIDLen + tokMaxRoleLen
	tokMinPayload   = tokFixedLen + 1 + 1
	tokMaxPayload64 = (tokMaxPayload*8 + 5) / 6
	tokMinPayload64 = (tokMinPayload*8 + 5) / 6
	tokLongest      = len(tokPrefix) + tokMaxPayload64 + 1 + tokMACLen64
)

// The longest token fits the API's 256 characters (this fails to compile if not).
var _ [TokenMaxLen - tokLongest]struct{}

var tokB64 = base64.RawURLEncoding.Strict()

// TokenReason says why a token did not verify. Each reason is also an error
// value, the sentinel to test a [*TokenError] with:
//
//	if errors.Is(err, impersonation.TokenExpired) { ... }
type TokenReason uint8

// The reasons a token does not verify.
const (
	// TokenMalformed: not a token of this format (wrong length or characters,
	// wrong structure, unknown version, bad encoding, impossible claims).
	TokenMalformed TokenReason = iota + 1
	// TokenBadSignature: the MAC does not match, or the key ID is not in the ring
	// (the two are indistinguishable on purpose).
	TokenBadSignature
	// TokenExpired: the clock is at or past the token's expiry.
	TokenExpired
	// TokenNotYetValid: the token was issued later than the clock plus the leeway.
	TokenNotYetValid
	// TokenWrongOrganization: the token was issued for another organization.
	TokenWrongOrganization
	// TokenRoleDeleted: the token's impersonation role no longer exists.
	TokenRoleDeleted
)

var tokReasonNames = [...]string{
	TokenMalformed:         "malformed",
	TokenBadSignature:      "bad signature",
	TokenExpired:           "expired",
	TokenNotYetValid:       "not yet valid",
	TokenWrongOrganization: "wrong organization",
	TokenRoleDeleted:       "role deleted",
}

// String returns the reason in words, e.g. "bad signature".
func (r TokenReason) String() string {
	if int(r) < len(tokReasonNames) && tokReasonNames[r] != "" {
		return tokReasonNames[r]
	}
	return fmt.Sprintf("TokenReason(%d)", uint8(r))
}

// Error makes a TokenReason usable as a sentinel with [errors.Is].
func (r TokenReason) Error() string { return "impersonation token: " + r.String() }

// TokenError is the error [Verifier.Verify] returns. Reason says what failed; Err
// is the WorkMail error (SEMANTICS D1) with path "Token":
//
//   - TokenRoleDeleted: ResourceNotFoundException (as AssumeImpersonationRole
//     answers for an unknown role, B6);
//   - every other reason: InvalidParameterException (the token is an invalid
//     parameter of the impersonated request).
//
// errors.Is matches a TokenError against its [TokenReason] and, through Unwrap,
// against the policy sentinel of its code (e.g. [policy.ErrInvalidParameter]);
// [policy.CodeOf] gives its code. Messages are fixed per reason: they never echo
// the token, a claim or key material. TokenError values are shared and immutable.
type TokenError struct {
	Reason TokenReason
	Err    *policy.Error
}

// Error returns the WorkMail error's text, e.g.
// "InvalidParameterException: Token: the token has expired".
func (e *TokenError) Error() string { return e.Err.Error() }

// Unwrap returns the WorkMail error.
func (e *TokenError) Unwrap() error { return e.Err }

// Is reports whether target is e's reason.
func (e *TokenError) Is(target error) bool {
	r, ok := target.(TokenReason)
	return ok && r == e.Reason
}

func tokNewError(r TokenReason, code policy.Code, msg string) *TokenError {
	return &TokenError{Reason: r, Err: &policy.Error{Code: code, Path: "Token", Message: msg}}
}

var (
	tokErrMalformed    = tokNewError(TokenMalformed, policy.InvalidParameterException, "the token is malformed")
	tokErrBadSignature = tokNewError(TokenBadSignature, policy.InvalidParameterException, "the token's signature is not valid")
	tokErrExpired      = tokNewError(TokenExpired, policy.InvalidParameterException, "the token has expired")
	tokErrNotYetValid  = tokNewError(TokenNotYetValid, policy.InvalidParameterException, "the token was issued in the future")
	tokErrWrongOrg     = tokNewError(TokenWrongOrganization, policy.InvalidParameterException, "the token was issued for another organization")
	tokErrRoleDeleted  = tokNewError(TokenRoleDeleted, policy.ResourceNotFoundException, "the token's impersonation role no longer exists")
)

// Key is one HMAC-SHA-256 key: a public ID, carried by every token it signs, and
// a secret of at least [KeyMinSecretLen] random bytes.
type Key struct {
	ID     string
	Secret []byte
}

// tokKey is a validated key: a private copy of the secret and a pool of HMAC
// states primed with it.
type tokKey struct {
	id     string
	secret []byte
	pool   sync.Pool // of *tokMAC
}

// tokMAC is one reusable HMAC computation: the hash (whose keyed start state the
// hmac package saves on the first Reset) and a message buffer that already holds
// the domain-separation prefix.
type tokMAC struct {
	h   hash.Hash
	msg [len(tokDomain) + TokenMaxLen]byte
	sum [tokMACLen]byte
}

func tokNewKey(id string, secret []byte) *tokKey {
	k := &tokKey{id: id, secret: secret}
	k.pool.New = func() any {
		m := &tokMAC{h: hmac.New(sha256.New, k.secret)}
		m.h.Reset() // saves the keyed states: later Resets restore them cheaply
		copy(m.msg[:], tokDomain)
		return m
	}
	return k
}

// mac computes the MAC of the token text (without the domain prefix, which mac
// adds) into dst.
func (k *tokKey) mac(dst *[tokMACLen]byte, text string) {
	m := k.pool.Get().(*tokMAC)
	n := len(tokDomain) + copy(m.msg[len(tokDomain):], text)
	m.h.Reset()
	m.h.Write(m.msg[:n])
	m.h.Sum(m.sum[:0])
	*dst = m.sum
	k.pool.Put(m)
}

// KeyRing is an immutable set of keys for rotation: an [Issuer] signs with the
// current key, a [Verifier] accepts tokens signed with any key in the ring.
//
// To rotate, build a new ring whose current key is the new key and whose older
// keys include the previous current key, then build a new Issuer and Verifier
// from it (they are cheap) and swap them in. Once every token signed with a key
// has expired (TokenExpiresIn seconds after the last one was issued, plus the
// verifier's leeway), drop the key from the ring: its tokens stop verifying.
//
// A KeyRing keeps private copies of the secrets; it is safe for concurrent use.
// Build one with [NewKeyRing]: the zero KeyRing holds no key and is refused by
// [NewIssuer] and [NewVerifier].
type KeyRing struct {
	current *tokKey
	byID    map[string]*tokKey
	keys    []*tokKey // in ring order, current first
	ids     []string
	decoy   *tokKey // random key the MAC is computed under when the key ID is unknown
}

// NewKeyRing returns a ring that signs with current and accepts current and
// older. It refuses (with a ValidationException [policy.ErrorList] naming
// "Keys[i]", current being Keys[0]) a key ID that is empty, longer than
// KeyMaxIDLen or outside [A-Za-z0-9._-], a duplicate key ID, and a secret shorter
// than KeyMinSecretLen bytes or made of one repeated byte. The messages never
// contain a secret. The ring copies the secrets: later changes to the callers'
// slices do not affect it.
func NewKeyRing(current Key, older ...Key) (*KeyRing, error) {
	keys := make([]Key, 0, 1+len(older))
	keys = append(keys, current)
	keys = append(keys, older...)
	var errs policy.ErrorList
	r := &KeyRing{byID: make(map[string]*tokKey, len(keys))}
	first := make(map[string]int, len(keys))
	for i, k := range keys {
		path := fmt.Sprintf("Keys[%d]", i)
		bad := false
		switch {
		case k.ID == "":
			errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: path + ".ID", Message: "the key ID is empty"})
			bad = true
		case len(k.ID) > KeyMaxIDLen:
			errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: path + ".ID",
				Message: fmt.Sprintf("the key ID is longer than %d characters", KeyMaxIDLen)})
			bad = true
		case !tokValidKeyID(k.ID):
			errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: path + ".ID",
				Message: "the key ID has characters other than A-Z, a-z, 0-9, '.', '_' and '-'"})
			bad = true
		default:
			if j, dup := first[k.ID]; dup {
				errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: path + ".ID",
					Message: fmt.Sprintf("the key ID is the same as the ID of Keys[%d]", j)})
				bad = true
			} else {
				first[k.ID] = i
			}
		}
		switch {
		case len(k.Secret) < KeyMinSecretLen:
			errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: path + ".Secret",
				Message: fmt.Sprintf("the secret has %d bytes; at least %d are required", len(k.Secret), KeyMinSecretLen)})
			bad = true
		case tokRepeated(k.Secret):
			errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: path + ".Secret",
				Message: "the secret is one byte repeated, not a random key"})
			bad = true
		}
		if bad {
			continue
		}
		tk := tokNewKey(k.ID, append([]byte(nil), k.Secret...))
		if i == 0 {
			r.current = tk
		}
		r.byID[k.ID] = tk
		r.keys = append(r.keys, tk)
		r.ids = append(r.ids, k.ID)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	decoy := make([]byte, KeyMinSecretLen)
	if _, err := io.ReadFull(rand.Reader, decoy); err != nil {
		return nil, fmt.Errorf("impersonation: reading a random decoy key: %w", err)
	}
	r.decoy = tokNewKey("", decoy)
	return r, nil
}

// lookup returns the key with the given ID, or nil.
func (r *KeyRing) lookup(id []byte) *tokKey {
	if len(r.keys) > 4 {
		return r.byID[string(id)]
	}
	for _, k := range r.keys { // a few keys: faster than hashing
		if len(k.id) == len(id) && tokSameID(k.id, id) {
			return k
		}
	}
	return nil
}

func tokSameID(a string, b []byte) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// CurrentKeyID returns the ID of the key the ring signs with ("" for the zero
// KeyRing and a nil *KeyRing).
func (r *KeyRing) CurrentKeyID() string {
	if r == nil || r.current == nil {
		return ""
	}
	return r.current.id
}

// KeyIDs returns the IDs of all keys in the ring, the current one first.
func (r *KeyRing) KeyIDs() []string { return append([]string(nil), r.ids...) }

func tokValidKeyID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func tokRepeated(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}

// tokValidRoleID reports whether id is a well-formed ImpersonationRoleId: 1–64
// characters of [a-zA-Z0-9_-].
func tokValidRoleID[S string | []byte](id S) bool {
	if len(id) == 0 || len(id) > tokMaxRoleLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !tokRoleChar[id[i]] {
			return false
		}
	}
	return true
}

var tokRoleChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	return t
}()

// tokB64Val maps a base64url character to its 6-bit value and every other byte
// to 0xff.
var tokB64Val = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// tokDecode decodes unpadded base64url strictly — only the 64 characters of the
// alphabet (no padding, no line breaks), unused low bits zero, so that every byte
// string has exactly one encoding — into dst. It is encoding/base64's
// RawURLEncoding.Strict() minus its tolerance of CR and LF, and about three
// times faster (the tests check the two agree).
func tokDecode(dst []byte, src string) (int, bool) {
	if len(src)%4 == 1 || len(src)/4*3+(len(src)%4*3/4) > len(dst) {
		return 0, false
	}
	n := 0
	for len(src) >= 8 && len(dst)-n >= 8 { // 8 characters to 6 bytes (an 8-byte store)
		s := src[:8]
		a0, a1, a2, a3 := tokB64Val[s[0]], tokB64Val[s[1]], tokB64Val[s[2]], tokB64Val[s[3]]
		a4, a5, a6, a7 := tokB64Val[s[4]], tokB64Val[s[5]], tokB64Val[s[6]], tokB64Val[s[7]]
		if (a0|a1|a2|a3|a4|a5|a6|a7)&0x80 != 0 {
			return 0, false
		}
		binary.BigEndian.PutUint64(dst[n:], uint64(a0)<<58|uint64(a1)<<52|uint64(a2)<<46|uint64(a3)<<40|
			uint64(a4)<<34|uint64(a5)<<28|uint64(a6)<<22|uint64(a7)<<16)
		n += 6
		src = src[8:]
	}
	i := 0
	for ; i+4 <= len(src); i += 4 {
		a, b, c, d := tokB64Val[src[i]], tokB64Val[src[i+1]], tokB64Val[src[i+2]], tokB64Val[src[i+3]]
		if (a|b|c|d)&0x80 != 0 {
			return 0, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[n], dst[n+1], dst[n+2] = byte(v>>16), byte(v>>8), byte(v)
		n += 3
	}
	switch len(src) - i {
	case 2:
		a, b := tokB64Val[src[i]], tokB64Val[src[i+1]]
		if (a|b)&0x80 != 0 || b&0x0f != 0 {
			return 0, false
		}
		dst[n] = a<<2 | b>>4
		n++
	case 3:
		a, b, c := tokB64Val[src[i]], tokB64Val[src[i+1]], tokB64Val[src[i+2]]
		if (a|b|c)&0x80 != 0 || c&0x03 != 0 {
			return 0, false
		}
		v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
		dst[n], dst[n+1] = byte(v>>10), byte(v>>2)
		n += 2
	}
	return n, true
}

// tokOrgIs reports whether orgID is "m-" and the lowercase hex digits of org.
func tokOrgIs(orgID string, org *[tokOrgLen]byte) bool {
	const digits = "0123456789abcdef"
	if len(orgID) != 2+2*tokOrgLen || orgID[0] != 'm' || orgID[1] != '-' {
		return false
	}
	for i, c := range org {
		if orgID[2+2*i] != digits[c>>4] || orgID[3+2*i] != digits[c&15] {
			return false
		}
	}
	return true
}

// tokOrgBytes decodes the 32 hex digits of a well-formed organization ID.
func tokOrgBytes(orgID string) (b [tokOrgLen]byte, ok bool) {
	if !policy.ValidOrganizationID(orgID) {
		return b, false
	}
	for i := range b {
		b[i] = tokNibble(orgID[2+2*i])<<4 | tokNibble(orgID[3+2*i])
	}
	return b, true
}

func tokNibble(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// AssumeImpersonationRoleOutput is the wire shape of an AssumeImpersonationRole
// answer (the model's AssumeImpersonationRoleResponse).
type AssumeImpersonationRoleOutput struct {
	Token     string `json:"Token"`
	ExpiresIn int64  `json:"ExpiresIn"`
}

// IssuerOptions configures an [Issuer]. The zero value is ready to use.
type IssuerOptions struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Rand is the source of the random token IDs; nil means crypto/rand.Reader.
	Rand io.Reader
	// RoleExists, when set, is asked before issuing; a role it does not know is
	// ResourceNotFoundException, as in AssumeImpersonationRole. It must be safe
	// for concurrent use.
	RoleExists func(orgID, roleID string) bool
}

// Issuer issues impersonation tokens with the current key of its [KeyRing]. It is
// immutable and safe for concurrent use (if its Clock and RoleExists are; a
// caller-supplied Rand is read under a lock).
type Issuer struct {
	ring       *KeyRing
	clock      func() time.Time
	rand       io.Reader
	roleExists func(orgID, roleID string) bool
	randMu     *sync.Mutex // serializes reads from a caller-supplied Rand; nil for crypto/rand
}

// NewIssuer returns an issuer signing with ring's current key.
func NewIssuer(ring *KeyRing, opts IssuerOptions) (*Issuer, error) {
	if ring == nil || ring.current == nil {
		return nil, &policy.Error{Code: policy.ValidationException, Path: "KeyRing", Message: "a key ring from NewKeyRing is required"}
	}
	is := &Issuer{ring: ring, clock: opts.Clock, rand: opts.Rand, roleExists: opts.RoleExists}
	if is.clock == nil {
		is.clock = time.Now
	}
	if is.rand == nil {
		is.rand = rand.Reader // safe for concurrent use
	} else {
		is.randMu = new(sync.Mutex)
	}
	return is, nil
}

// AssumeImpersonationRole issues a token for role roleID of organization orgID
// (SEMANTICS B8): ExpiresIn is always TokenExpiresIn (900); the token's expiry is
// its issue time, truncated to the second, plus 900 seconds, so it never outlives
// the promised 900 seconds (it may expire up to a second sooner).
//
// A malformed orgID (C4) or roleID (1–64 characters of [a-zA-Z0-9_-]) is a
// ValidationException naming "OrganizationId" or "ImpersonationRoleId" (both in
// one [policy.ErrorList] when both are wrong); a role that IssuerOptions.RoleExists
// does not know is ResourceNotFoundException. A failure of the random source or a
// clock before 1970 is returned as a plain error.
func (is *Issuer) AssumeImpersonationRole(orgID, roleID string) (AssumeImpersonationRoleOutput, error) {
	var errs policy.ErrorList
	org, ok := tokOrgBytes(orgID)
	if !ok {
		errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: "OrganizationId",
			Message: "the organization ID must be \"m-\" and 32 lowercase hexadecimal digits"})
	}
	if !tokValidRoleID(roleID) {
		errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: "ImpersonationRoleId",
			Message: "the impersonation role ID must be 1 to 64 characters of a-z, A-Z, 0-9, '_' and '-'"})
	}
	if err := errs.Err(); err != nil {
		return AssumeImpersonationRoleOutput{}, err
	}
	if is.roleExists != nil && !is.roleExists(orgID, roleID) {
		return AssumeImpersonationRoleOutput{}, &policy.Error{Code: policy.ResourceNotFoundException,
			Path: "ImpersonationRoleId", Message: "the impersonation role does not exist"}
	}

	var id [tokIDLen]byte
	if is.randMu != nil {
		is.randMu.Lock()
	}
	_, err := io.ReadFull(is.rand, id[:])
	if is.randMu != nil {
		is.randMu.Unlock()
	}
	if err != nil {
		return AssumeImpersonationRoleOutput{}, fmt.Errorf("impersonation: reading a random token ID: %w", err)
	}
	iat := is.clock().Unix()
	if iat < 0 {
		return AssumeImpersonationRoleOutput{}, errors.New("impersonation: the clock is before 1970")
	}

	key := is.ring.current
	var p [tokMaxPayload]byte
	b := p[:0]
	b = append(b, tokVersion, byte(len(key.id)))
	b = append(b, key.id...)
	b = append(b, org[:]...)
	b = append(b, byte(len(roleID)))
	b = append(b, roleID...)
	b = binary.BigEndian.AppendUint64(b, uint64(iat))
	b = binary.BigEndian.AppendUint64(b, uint64(iat+TokenExpiresIn))
	b = append(b, id[:]...)

	t := make([]byte, 0, tokLongest)
	t = append(t, tokPrefix...)
	t = tokB64.AppendEncode(t, b)
	var mac [tokMACLen]byte
	key.mac(&mac, string(t))
	t = append(t, '.')
	t = tokB64.AppendEncode(t, mac[:])
	return AssumeImpersonationRoleOutput{Token: string(t), ExpiresIn: TokenExpiresIn}, nil
}

// VerifierOptions configures a [Verifier].
type VerifierOptions struct {
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Leeway is how far in the future a token's issue time may be (clock skew
	// between issuer and verifier): 0 (the default) to TokenMaxLeeway. It does not
	// extend the expiry.
	Leeway time.Duration
	// RoleExists reports whether the impersonation role still exists; required.
	// A token of a deleted role does not verify. It must be safe for concurrent
	// use.
	RoleExists func(orgID, roleID string) bool
}

// Verifier checks impersonation tokens offline, as a gateway does before an
// impersonated EWS request (SEMANTICS B8, B9). It is immutable and safe for
// concurrent use (if its Clock and RoleExists are).
type Verifier struct {
	ring       *KeyRing
	clock      func() time.Time
	leeway     time.Duration
	roleExists func(orgID, roleID string) bool
	// roles, for an EWSAuthorizer's verifier (of organization rolesOrg),
	// replaces roleExists: the token's role ID is looked up as bytes (a
	// map index by string(b) does not allocate, and b does not escape as it
	// would into a function value), and the compiled role is returned.
	roles    map[string]*Evaluator
	rolesOrg string
	// rolesOrgBytes is rolesOrg decoded, when rolesOrgOK (it is a
	// well-formed organization ID).
	rolesOrgBytes [tokOrgLen]byte
	rolesOrgOK    bool
}

// NewVerifier returns a verifier accepting tokens signed with any key of ring. A
// nil ring, a nil RoleExists or a Leeway outside 0–TokenMaxLeeway is a
// ValidationException.
func NewVerifier(ring *KeyRing, opts VerifierOptions) (*Verifier, error) {
	return newVerifier(ring, opts, nil, "")
}

// newVerifier is NewVerifier; with roles (an EWSAuthorizer's compiled
// roles, of organization org) it needs no RoleExists.
func newVerifier(ring *KeyRing, opts VerifierOptions, roles map[string]*Evaluator, org string) (*Verifier, error) {
	var errs policy.ErrorList
	if ring == nil || ring.current == nil {
		errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: "KeyRing", Message: "a key ring from NewKeyRing is required"})
	}
	if opts.Leeway < 0 || opts.Leeway > TokenMaxLeeway {
		errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: "Leeway",
			Message: fmt.Sprintf("the leeway must be between 0 and %v", TokenMaxLeeway)})
	}
	if opts.RoleExists == nil && roles == nil {
		errs = append(errs, &policy.Error{Code: policy.ValidationException, Path: "RoleExists",
			Message: "a RoleExists function is required, so that tokens of deleted roles do not verify"})
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	v := &Verifier{ring: ring, clock: opts.Clock, leeway: opts.Leeway, roleExists: opts.RoleExists, roles: roles, rolesOrg: org}
	if org != "" {
		v.rolesOrgBytes, v.rolesOrgOK = tokOrgBytes(org)
	}
	if v.clock == nil {
		v.clock = time.Now
	}
	return v, nil
}

// role returns the ID of the token's role (verified, of organization orgID)
// and whether the role still exists; for an EWSAuthorizer's verifier also
// the compiled role, whose own ID string is returned.
func (v *Verifier) role(orgID string, role []byte) (string, *Evaluator, bool) {
	if v.roles != nil {
		if r := v.roles[string(role)]; r != nil && orgID == v.rolesOrg {
			return r.ID(), r, true
		}
		return "", nil, false
	}
	id := string(role)
	return id, nil, v.roleExists(orgID, id)
}

// TokenClaims are what a verified token says.
type TokenClaims struct {
	OrganizationID string
	RoleID         string
	KeyID          string    // the ID of the key that signed the token
	IssuedAt       time.Time // UTC, whole seconds
	ExpiresAt      time.Time // UTC, IssuedAt + 900 s
	TokenID        [16]byte  // random, unique per issued token
}

// MarshalJSON writes the claims in the API's member names, times in RFC 3339
// and the token ID in hex: {"OrganizationId", "ImpersonationRoleId", "KeyId",
// "IssuedAt", "ExpiresAt", "TokenId"} (what 'wmpolicy token verify' prints).
func (c TokenClaims) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		OrganizationId      string
		ImpersonationRoleId string
		KeyId               string
		IssuedAt            string
		ExpiresAt           string
		TokenId             string
	}{
		OrganizationId:      c.OrganizationID,
		ImpersonationRoleId: c.RoleID,
		KeyId:               c.KeyID,
		IssuedAt:            c.IssuedAt.Format(time.RFC3339),
		ExpiresAt:           c.ExpiresAt.Format(time.RFC3339),
		TokenId:             hex.EncodeToString(c.TokenID[:]),
	})
}

// Verify checks token for organization orgID and returns its claims. In order:
// the token must be 1–256 characters of \x21–\x7e with the version-1 structure
// (else TokenMalformed); its MAC must match under the key its key ID names, which
// must be in the ring (else TokenBadSignature; compared in constant time, before
// any claim is read); its organization must be orgID (else
// TokenWrongOrganization); the clock must be before its expiry (else
// TokenExpired) and not earlier than its issue time minus the leeway (else
// TokenNotYetValid); and RoleExists must know its role (else TokenRoleDeleted).
// Every failure is a [*TokenError].
//
// A verified token is a bearer credential until it expires: Verify does not
// remember tokens, so it does not stop replays within the 900 seconds.
func (v *Verifier) Verify(token, orgID string) (TokenClaims, error) {
	claims, _, err := v.verify(token, orgID)
	return claims, err
}

// verify is Verify; an EWSAuthorizer's verifier also returns the token's
// compiled role (nil otherwise).
func (v *Verifier) verify(token, orgID string) (TokenClaims, *Evaluator, error) {
	// Structure: length, "v1." payload "." mac. That every character is
	// printable needs no pass of its own: the prefix and the dot are checked
	// here, and the strict decoder refuses any byte outside base64url's
	// alphabet in the payload and the MAC.
	if len(token) > TokenMaxLen || !strings.HasPrefix(token, tokPrefix) {
		return TokenClaims{}, nil, tokErrMalformed
	}
	dot := strings.IndexByte(token[len(tokPrefix):], '.')
	if dot < tokMinPayload64 || dot > tokMaxPayload64 {
		return TokenClaims{}, nil, tokErrMalformed
	}
	signed := token[:len(tokPrefix)+dot]
	mac64 := token[len(signed)+1:]
	if len(mac64) != tokMACLen64 {
		return TokenClaims{}, nil, tokErrMalformed
	}
	var payload [tokMaxPayload]byte
	n, ok := tokDecode(payload[:], signed[len(tokPrefix):])
	if !ok {
		return TokenClaims{}, nil, tokErrMalformed
	}
	var got [tokMACLen]byte
	if m, ok := tokDecode(got[:], mac64); !ok || m != tokMACLen {
		return TokenClaims{}, nil, tokErrMalformed
	}
	p := payload[:n]
	// Only the version and the key ID are read before the MAC check.
	if p[0] != tokVersion {
		return TokenClaims{}, nil, tokErrMalformed
	}
	kl := int(p[1])
	if kl == 0 || kl > KeyMaxIDLen || len(p) < 2+kl {
		return TokenClaims{}, nil, tokErrMalformed
	}
	key := v.ring.lookup(p[2 : 2+kl])
	known := key != nil
	if !known {
		key = v.ring.decoy
	}
	var want [tokMACLen]byte
	key.mac(&want, signed)
	if !hmac.Equal(got[:], want[:]) || !known {
		return TokenClaims{}, nil, tokErrBadSignature
	}

	// The MAC matched: the claims are the issuer's. Check them anyway.
	c := p[2+kl:]
	if len(c) < tokOrgLen+1 {
		return TokenClaims{}, nil, tokErrMalformed
	}
	var org [tokOrgLen]byte
	copy(org[:], c)
	rl := int(c[tokOrgLen])
	c = c[tokOrgLen+1:]
	if len(c) != rl+8+8+tokIDLen || !tokValidRoleID(c[:rl]) {
		return TokenClaims{}, nil, tokErrMalformed
	}
	role := c[:rl]
	iat := int64(binary.BigEndian.Uint64(c[rl:]))
	exp := int64(binary.BigEndian.Uint64(c[rl+8:]))
	if iat < 0 || exp <= iat || exp-iat > TokenExpiresIn {
		return TokenClaims{}, nil, tokErrMalformed
	}
	// An EWSAuthorizer's verifier compares its own organization's 16 bytes.
	var orgOK bool
	if v.rolesOrgOK && orgID == v.rolesOrg {
		orgOK = org == v.rolesOrgBytes
	} else {
		orgOK = tokOrgIs(orgID, &org)
	}
	if !orgOK {
		return TokenClaims{}, nil, tokErrWrongOrg
	}
	now := v.clock()
	issuedAt, expiresAt := time.Unix(iat, 0).UTC(), time.Unix(exp, 0).UTC()
	if !now.Before(expiresAt) {
		return TokenClaims{}, nil, tokErrExpired
	}
	if issuedAt.After(now.Add(v.leeway)) {
		return TokenClaims{}, nil, tokErrNotYetValid
	}
	roleID, ev, ok := v.role(orgID, role)
	if !ok {
		return TokenClaims{}, nil, tokErrRoleDeleted
	}
	claims := TokenClaims{
		OrganizationID: orgID, // equal to the token's organization, checked above
		RoleID:         roleID,
		KeyID:          key.id,
		IssuedAt:       issuedAt,
		ExpiresAt:      expiresAt,
	}
	copy(claims.TokenID[:], c[rl+16:])
	return claims, ev, nil
}
