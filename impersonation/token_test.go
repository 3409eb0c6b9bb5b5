package impersonation

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/policy"
	"pgregory.net/rapid"
)

const (
	tokTestOrg   = "m-0123456789abcdef0123456789abcdef"
	tokTestOrg2  = "m-fedcba9876543210fedcba9876543210"
	tokTestRole  = "2d1f7a3c-9b4e-4f8a-a2c1-6e5d4c3b2a10"
	tokTestRole2 = "read_only-role"
)

// tokTestTime is the fixed "now" of the tests: a whole second plus a fraction,
// so that the truncation of the issue time shows.
var tokTestTime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// tokTestKey returns a key with a deterministic, non-degenerate 32-byte secret.
func tokTestKey(id string) Key {
	s := sha256.Sum256([]byte("secret of " + id))
	return Key{ID: id, Secret: s[:]}
}

func tokRing(t testing.TB, current Key, older ...Key) *KeyRing {
	t.Helper()
	r, err := NewKeyRing(current, older...)
	if err != nil {
		t.Fatalf("NewKeyRing: %v", err)
	}
	return r
}

// tokRoles is a concurrency-safe set of existing roles, keyed "org/role".
type tokRoles struct {
	mu    sync.Mutex
	set   map[string]bool
	calls int
}

func tokNewRoles(pairs ...string) *tokRoles {
	r := &tokRoles{set: map[string]bool{}}
	for i := 0; i+1 < len(pairs); i += 2 {
		r.set[pairs[i]+"/"+pairs[i+1]] = true
	}
	return r
}

func (r *tokRoles) exists(org, role string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	return r.set[org+"/"+role]
}

func (r *tokRoles) remove(org, role string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.set, org+"/"+role)
}

func tokClock(t *time.Time) func() time.Time { return func() time.Time { return *t } }

func tokIssuer(t testing.TB, ring *KeyRing, now time.Time) *Issuer {
	t.Helper()
	is, err := NewIssuer(ring, IssuerOptions{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return is
}

func tokVerifier(t testing.TB, ring *KeyRing, now *time.Time, leeway time.Duration, roles *tokRoles) *Verifier {
	t.Helper()
	v, err := NewVerifier(ring, VerifierOptions{Clock: tokClock(now), Leeway: leeway, RoleExists: roles.exists})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func tokIssue(t testing.TB, is *Issuer, org, role string) string {
	t.Helper()
	out, err := is.AssumeImpersonationRole(org, role)
	if err != nil {
		t.Fatalf("AssumeImpersonationRole(%q, %q): %v", org, role, err)
	}
	return out.Token
}

// tokFixture is one issuer, one verifier sharing a ring, a clock the test can
// move, and a valid token for (tokTestOrg, tokTestRole).
type tokFixture struct {
	ring  *KeyRing
	is    *Issuer
	v     *Verifier
	now   time.Time
	roles *tokRoles
	token string
}

func tokSetup(t testing.TB) *tokFixture {
	t.Helper()
	f := &tokFixture{now: tokTestTime, roles: tokNewRoles(tokTestOrg, tokTestRole, tokTestOrg, tokTestRole2, tokTestOrg2, tokTestRole)}
	f.ring = tokRing(t, tokTestKey("k2"), tokTestKey("k1"))
	f.is = tokIssuer(t, f.ring, tokTestTime)
	f.v = tokVerifier(t, f.ring, &f.now, 0, f.roles)
	f.token = tokIssue(t, f.is, tokTestOrg, tokTestRole)
	if _, err := f.v.Verify(f.token, tokTestOrg); err != nil {
		t.Fatalf("Verify(fresh token): %v", err)
	}
	return f
}

// tokWantReason fails unless err is a *TokenError of reason want, matchable by
// errors.Is with exactly that reason and with its policy code's sentinel.
func tokWantReason(t testing.TB, what string, err error, want TokenReason) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: verified, want %v", what, want)
	}
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("%s: error %T %v is not a *TokenError", what, err, err)
	}
	if te.Reason != want || !errors.Is(err, want) {
		t.Fatalf("%s: reason %v (%v), want %v", what, te.Reason, err, want)
	}
	for r := TokenMalformed; r <= TokenRoleDeleted; r++ {
		if r != want && errors.Is(err, r) {
			t.Fatalf("%s: errors.Is(err, %v) is true; the reason is %v", what, r, want)
		}
	}
	wantCode := policy.InvalidParameterException
	if want == TokenRoleDeleted {
		wantCode = policy.ResourceNotFoundException
	}
	if policy.CodeOf(err) != wantCode || !errors.Is(err, &policy.Error{Code: wantCode}) {
		t.Fatalf("%s: code %q, want %q", what, policy.CodeOf(err), wantCode)
	}
	if te.Err.Path != "Token" {
		t.Fatalf("%s: path %q, want Token", what, te.Err.Path)
	}
}

// tokTamper changes the next-to-last character of tok (a MAC character whose six
// bits all count) to another base64url character: the result is well formed but
// carries a wrong MAC.
func tokTamper(tok string) string {
	c := byte('A')
	if tok[len(tok)-2] == c {
		c = 'B'
	}
	return tok[:len(tok)-2] + string(c) + tok[len(tok)-1:]
}

// tokPrintableRef is the obvious version of tokPrintable.
func tokPrintableRef(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// SEMANTICS B8: a token round-trips with its claims; ExpiresIn is 900; the token
// is 1–256 characters of \x21–\x7e.
func TestSemanticsB8_TokenRoundTrip(t *testing.T) {
	f := tokSetup(t)
	out, err := f.is.AssumeImpersonationRole(tokTestOrg, tokTestRole2)
	if err != nil {
		t.Fatal(err)
	}
	if out.ExpiresIn != 900 || TokenExpiresIn != 900 {
		t.Errorf("ExpiresIn = %d, want 900", out.ExpiresIn)
	}
	if n := len(out.Token); n < 1 || n > 256 || !tokPrintableRef(out.Token) {
		t.Errorf("token %q: %d characters, printable %v", out.Token, n, tokPrintableRef(out.Token))
	}
	c, err := f.v.Verify(out.Token, tokTestOrg)
	if err != nil {
		t.Fatal(err)
	}
	wantIAT := tokTestTime.Truncate(time.Second)
	if c.OrganizationID != tokTestOrg || c.RoleID != tokTestRole2 || c.KeyID != "k2" ||
		!c.IssuedAt.Equal(wantIAT) || !c.ExpiresAt.Equal(wantIAT.Add(900*time.Second)) ||
		c.IssuedAt.Location() != time.UTC || c.TokenID == [16]byte{} {
		t.Errorf("claims = %+v", c)
	}
	// Random token IDs: issuing twice gives different tokens and IDs.
	out2, _ := f.is.AssumeImpersonationRole(tokTestOrg, tokTestRole2)
	c2, err := f.v.Verify(out2.Token, tokTestOrg)
	if err != nil || out2.Token == out.Token || c2.TokenID == c.TokenID {
		t.Errorf("second token %q (%v): same as first or failed", out2.Token, err)
	}
}

// SEMANTICS B8: the wire shape is the model's AssumeImpersonationRoleResponse
// ({"Token": string, "ExpiresIn": long}).
func TestSemanticsB8_TokenWireShape(t *testing.T) {
	f := tokSetup(t)
	b, err := json.Marshal(AssumeImpersonationRoleOutput{Token: f.token, ExpiresIn: TokenExpiresIn})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Token":"` + f.token + `","ExpiresIn":900}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}

	// Check the member names and the Token constraints against the model.
	raw, err := os.ReadFile("../testdata/reference/workmail-2017-10-01.service-2.json")
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Shapes map[string]struct {
			Type    string
			Min     *int
			Max     *int
			Pattern string
			Members map[string]struct{ Shape string }
		}
	}
	if err := json.Unmarshal(raw, &model); err != nil {
		t.Fatal(err)
	}
	resp := model.Shapes["AssumeImpersonationRoleResponse"]
	if len(resp.Members) != 2 || resp.Members["Token"].Shape == "" || resp.Members["ExpiresIn"].Shape == "" {
		t.Fatalf("model AssumeImpersonationRoleResponse members = %v", resp.Members)
	}
	tok := model.Shapes[resp.Members["Token"].Shape]
	if tok.Type != "string" || tok.Min == nil || *tok.Min != 1 || tok.Max == nil || *tok.Max != TokenMaxLen || tok.Pattern != `[\x21-\x7e]+` {
		t.Errorf("model token shape = %+v", tok)
	}
	if exp := model.Shapes[resp.Members["ExpiresIn"].Shape]; exp.Type != "long" {
		t.Errorf("model ExpiresIn type = %q, want long (int64)", exp.Type)
	}
}

// SEMANTICS B8: the longest token (32-character key ID, 64-character role ID)
// fits in 256 characters with the full 32-byte MAC.
func TestSemanticsB8_TokenLengthBudget(t *testing.T) {
	kid := strings.Repeat("K", KeyMaxIDLen)
	role := strings.Repeat("r", 64)
	ring := tokRing(t, tokTestKey(kid))
	tok := tokIssue(t, tokIssuer(t, ring, tokTestTime), tokTestOrg, role)
	if len(tok) != tokLongest || tokLongest != 243 || len(tok) > TokenMaxLen || !tokPrintableRef(tok) {
		t.Fatalf("longest token has %d characters (budget %d): %q", len(tok), tokLongest, tok)
	}
	now := tokTestTime
	v := tokVerifier(t, ring, &now, 0, tokNewRoles(tokTestOrg, role))
	if c, err := v.Verify(tok, tokTestOrg); err != nil || c.KeyID != kid || c.RoleID != role {
		t.Fatalf("Verify(longest) = %+v, %v", c, err)
	}
	// And the shortest: 1-character key ID and role ID.
	ring = tokRing(t, tokTestKey("k"))
	tok = tokIssue(t, tokIssuer(t, ring, tokTestTime), tokTestOrg, "r")
	if _, err := tokVerifier(t, ring, &now, 0, tokNewRoles(tokTestOrg, "r")).Verify(tok, tokTestOrg); err != nil {
		t.Fatalf("Verify(shortest %q) = %v", tok, err)
	}
}

// SEMANTICS B8: every single-bit flip of every byte of a valid token is rejected,
// including flips that make the byte non-printable or non-ASCII.
func TestSemanticsB8_TokenEveryBitFlipRejected(t *testing.T) {
	f := tokSetup(t)
	calls := f.roles.calls
	n := 0
	for i := 0; i < len(f.token); i++ {
		for bit := 0; bit < 8; bit++ {
			b := []byte(f.token)
			b[i] ^= 1 << bit
			flipped := string(b)
			_, err := f.v.Verify(flipped, tokTestOrg)
			if err == nil {
				t.Fatalf("flip of bit %d of byte %d verified: %q", bit, i, flipped)
			}
			var te *TokenError
			if !errors.As(err, &te) || (te.Reason != TokenMalformed && te.Reason != TokenBadSignature) {
				t.Fatalf("flip of bit %d of byte %d: %v, want malformed or bad signature", bit, i, err)
			}
			n++
		}
	}
	if f.roles.calls != calls {
		t.Errorf("RoleExists called %d times for flipped tokens", f.roles.calls-calls)
	}
	t.Logf("%d flips rejected", n)
}

// SEMANTICS B8: every truncation and every one-character extension (each printable
// character, at the end and at the start) of a valid token is rejected.
func TestSemanticsB8_TokenTruncationsAndExtensionsRejected(t *testing.T) {
	f := tokSetup(t)
	for i := 0; i < len(f.token); i++ {
		if _, err := f.v.Verify(f.token[:i], tokTestOrg); err == nil {
			t.Fatalf("truncation to %d characters verified", i)
		}
		if _, err := f.v.Verify(f.token[i+1:], tokTestOrg); err == nil {
			t.Fatalf("dropping the first %d characters verified", i+1)
		}
	}
	for c := byte(0x21); c <= 0x7e; c++ {
		if _, err := f.v.Verify(f.token+string(c), tokTestOrg); err == nil {
			t.Fatalf("appending %q verified", c)
		}
		if _, err := f.v.Verify(string(c)+f.token, tokTestOrg); err == nil {
			t.Fatalf("prepending %q verified", c)
		}
	}
	// Doubling any one character is also rejected.
	for i := 0; i < len(f.token); i++ {
		d := f.token[:i+1] + f.token[i:]
		if _, err := f.v.Verify(d, tokTestOrg); err == nil {
			t.Fatalf("doubling character %d verified", i)
		}
	}
}

// SEMANTICS B8: a token signed with a key the verifier does not have is rejected
// as a bad signature, whether the key ID is unknown or the secret differs; both
// cases give the same error.
func TestSemanticsB8_TokenWrongKey(t *testing.T) {
	f := tokSetup(t)
	now := tokTestTime

	other := tokRing(t, tokTestKey("other"))
	_, err1 := tokVerifier(t, other, &now, 0, f.roles).Verify(f.token, tokTestOrg)
	tokWantReason(t, "unknown key ID", err1, TokenBadSignature)

	sameID := Key{ID: "k2", Secret: bytes.Repeat([]byte{1, 2}, 16)}
	_, err2 := tokVerifier(t, tokRing(t, sameID), &now, 0, f.roles).Verify(f.token, tokTestOrg)
	tokWantReason(t, "same key ID, other secret", err2, TokenBadSignature)
	if err1.Error() != err2.Error() {
		t.Errorf("unknown key (%v) and wrong secret (%v) are distinguishable", err1, err2)
	}

	// An unknown key ID is refused even if the MAC happens to match the throw-away
	// key the verifier computes it under (to take as long as a known key).
	org, _ := hex.DecodeString(tokTestOrg[2:])
	iat := tokTestTime.Unix()
	signed := tokPrefix + tokB64.EncodeToString(tokPayload("zz", org, tokTestRole, iat, iat+900, 0))
	var mac [tokMACLen]byte
	f.ring.decoy.mac(&mac, signed)
	_, err := f.v.Verify(signed+"."+tokB64.EncodeToString(mac[:]), tokTestOrg)
	tokWantReason(t, "unknown key ID, MAC under the decoy key", err, TokenBadSignature)
}

// SEMANTICS B8: a ring of many keys (looked up through its map rather than by a
// scan) verifies each key's tokens and nothing else.
func TestSemanticsB8_TokenManyKeys(t *testing.T) {
	var keys []Key
	for i := 0; i < 9; i++ {
		keys = append(keys, tokTestKey(fmt.Sprintf("key-%d", i)))
	}
	now := tokTestTime
	roles := tokNewRoles(tokTestOrg, tokTestRole)
	for _, n := range []int{1, 4, 5, 9} {
		ring := tokRing(t, keys[0], keys[1:n]...)
		v := tokVerifier(t, ring, &now, 0, roles)
		for i, k := range keys {
			tok := tokIssue(t, tokIssuer(t, tokRing(t, k), now), tokTestOrg, tokTestRole)
			c, err := v.Verify(tok, tokTestOrg)
			if i < n && (err != nil || c.KeyID != k.ID) {
				t.Errorf("ring of %d, key %d: %+v, %v", n, i, c, err)
			}
			if i >= n {
				tokWantReason(t, fmt.Sprintf("ring of %d, key %d", n, i), err, TokenBadSignature)
			}
		}
	}
}

// SEMANTICS B8: key rotation. Issuing always uses the current key; a token of an
// older key still in the ring verifies; once the key leaves the ring its tokens
// are rejected.
func TestSemanticsB8_TokenKeyRotation(t *testing.T) {
	now := tokTestTime
	roles := tokNewRoles(tokTestOrg, tokTestRole)

	ring1 := tokRing(t, tokTestKey("2025-01"))
	t1 := tokIssue(t, tokIssuer(t, ring1, now), tokTestOrg, tokTestRole)

	ring2 := tokRing(t, tokTestKey("2025-02"), tokTestKey("2025-01"))
	if ring2.CurrentKeyID() != "2025-02" || strings.Join(ring2.KeyIDs(), ",") != "2025-02,2025-01" {
		t.Fatalf("ring2: current %q, IDs %v", ring2.CurrentKeyID(), ring2.KeyIDs())
	}
	is2 := tokIssuer(t, ring2, now)
	v2 := tokVerifier(t, ring2, &now, 0, roles)
	for i := 0; i < 20; i++ {
		c, err := v2.Verify(tokIssue(t, is2, tokTestOrg, tokTestRole), tokTestOrg)
		if err != nil || c.KeyID != "2025-02" {
			t.Fatalf("token %d of ring2: key %q, %v; want the current key 2025-02", i, c.KeyID, err)
		}
	}
	if c, err := v2.Verify(t1, tokTestOrg); err != nil || c.KeyID != "2025-01" {
		t.Fatalf("old-key token with the old key still in the ring: %+v, %v", c, err)
	}
	t2 := tokIssue(t, is2, tokTestOrg, tokTestRole)

	ring3 := tokRing(t, tokTestKey("2025-03"), tokTestKey("2025-02"))
	v3 := tokVerifier(t, ring3, &now, 0, roles)
	_, err := v3.Verify(t1, tokTestOrg)
	tokWantReason(t, "rotated-out key", err, TokenBadSignature)
	if c, err := v3.Verify(t2, tokTestOrg); err != nil || c.KeyID != "2025-02" {
		t.Fatalf("previous key's token: %+v, %v", c, err)
	}
}

// SEMANTICS B8: a token expires at exactly now == expiry; it is valid one
// nanosecond before. The issue time is truncated to the second.
func TestSemanticsB8_TokenExpiry(t *testing.T) {
	f := tokSetup(t)
	c, err := f.v.Verify(f.token, tokTestOrg)
	if err != nil {
		t.Fatal(err)
	}
	exp := tokTestTime.Truncate(time.Second).Add(TokenExpiresIn * time.Second)
	if !c.ExpiresAt.Equal(exp) || !c.ExpiresAt.After(tokTestTime.Add(899*time.Second)) {
		t.Fatalf("ExpiresAt = %v, want %v", c.ExpiresAt, exp)
	}
	f.now = exp.Add(-time.Nanosecond)
	if _, err := f.v.Verify(f.token, tokTestOrg); err != nil {
		t.Fatalf("at expiry-1ns: %v", err)
	}
	for _, now := range []time.Time{exp, exp.Add(time.Nanosecond), exp.Add(time.Hour), exp.In(time.FixedZone("X", 3600))} {
		f.now = now
		_, err := f.v.Verify(f.token, tokTestOrg)
		tokWantReason(t, "at "+now.String(), err, TokenExpired)
	}
	// An expired token with a bad MAC is a bad signature: the MAC comes first.
	_, err = f.v.Verify(tokTamper(f.token), tokTestOrg)
	tokWantReason(t, "expired and tampered", err, TokenBadSignature)
}

// SEMANTICS B8: a token issued in the future beyond the leeway is rejected,
// within it accepted. The leeway never extends the expiry.
func TestSemanticsB8_TokenIssuedInFuture(t *testing.T) {
	f := tokSetup(t)
	iat := tokTestTime.Truncate(time.Second)

	f.now = iat.Add(-time.Nanosecond) // leeway 0 (default)
	_, err := f.v.Verify(f.token, tokTestOrg)
	tokWantReason(t, "issued 1ns in the future, leeway 0", err, TokenNotYetValid)
	f.now = iat
	if _, err := f.v.Verify(f.token, tokTestOrg); err != nil {
		t.Fatalf("at the issue time, leeway 0: %v", err)
	}

	for _, leeway := range []time.Duration{time.Second, 30 * time.Second, TokenMaxLeeway} {
		v := tokVerifier(t, f.ring, &f.now, leeway, f.roles)
		f.now = iat.Add(-leeway)
		if _, err := v.Verify(f.token, tokTestOrg); err != nil {
			t.Fatalf("issued %v in the future, leeway %v: %v", leeway, leeway, err)
		}
		f.now = iat.Add(-leeway - time.Nanosecond)
		_, err := v.Verify(f.token, tokTestOrg)
		tokWantReason(t, "beyond leeway "+leeway.String(), err, TokenNotYetValid)
		f.now = iat.Add(TokenExpiresIn * time.Second)
		_, err = v.Verify(f.token, tokTestOrg)
		tokWantReason(t, "expiry with leeway "+leeway.String(), err, TokenExpired)
	}
}

// SEMANTICS B8: the leeway is 0–60 s; anything else is refused at construction,
// as are a missing RoleExists and a missing ring.
func TestSemanticsB8_VerifierOptionsRefused(t *testing.T) {
	ring := tokRing(t, tokTestKey("k"))
	ok := func(string, string) bool { return true }
	for _, l := range []time.Duration{0, time.Nanosecond, time.Second, 60 * time.Second} {
		if _, err := NewVerifier(ring, VerifierOptions{Leeway: l, RoleExists: ok}); err != nil {
			t.Errorf("leeway %v refused: %v", l, err)
		}
	}
	for _, l := range []time.Duration{60*time.Second + time.Nanosecond, 61 * time.Second, time.Hour, -time.Nanosecond} {
		v, err := NewVerifier(ring, VerifierOptions{Leeway: l, RoleExists: ok})
		if v != nil || !errors.Is(err, policy.ErrValidation) || policy.Errors(err)[0].Path != "Leeway" {
			t.Errorf("leeway %v: %v, %v; want a ValidationException on Leeway", l, v, err)
		}
	}
	if v, err := NewVerifier(ring, VerifierOptions{}); v != nil || !errors.Is(err, policy.ErrValidation) {
		t.Errorf("no RoleExists: %v, %v", v, err)
	}
	if v, err := NewVerifier(nil, VerifierOptions{RoleExists: ok}); v != nil || !errors.Is(err, policy.ErrValidation) {
		t.Errorf("nil ring: %v, %v", v, err)
	}
	if is, err := NewIssuer(nil, IssuerOptions{}); is != nil || !errors.Is(err, policy.ErrValidation) {
		t.Errorf("NewIssuer(nil ring): %v, %v", is, err)
	}
	if v, err := NewVerifier(&KeyRing{}, VerifierOptions{RoleExists: ok}); v != nil || !errors.Is(err, policy.ErrValidation) {
		t.Errorf("zero ring: %v, %v", v, err)
	}
	if is, err := NewIssuer(&KeyRing{}, IssuerOptions{}); is != nil || !errors.Is(err, policy.ErrValidation) {
		t.Errorf("NewIssuer(zero ring): %v, %v", is, err)
	}
}

// SEMANTICS B8: a token for another organization does not verify.
func TestSemanticsB8_TokenOtherOrganization(t *testing.T) {
	f := tokSetup(t)
	for _, org := range []string{tokTestOrg2, strings.ToUpper(tokTestOrg), "m-0123456789abcdef0123456789abcdee", "", "m-", "not-an-org"} {
		_, err := f.v.Verify(f.token, org)
		tokWantReason(t, "org "+org, err, TokenWrongOrganization)
	}
	// The same role ID exists in tokTestOrg2, and the token still is tokTestOrg's.
	t2 := tokIssue(t, f.is, tokTestOrg2, tokTestRole)
	if c, err := f.v.Verify(t2, tokTestOrg2); err != nil || c.OrganizationID != tokTestOrg2 {
		t.Fatalf("org2 token: %+v, %v", c, err)
	}
	_, err := f.v.Verify(t2, tokTestOrg)
	tokWantReason(t, "org2 token for org1", err, TokenWrongOrganization)
}

// SEMANTICS B8, B6: a token of a role deleted since it was issued does not
// verify; RoleExists is asked about the token's organization and role.
func TestSemanticsB8_TokenDeletedRole(t *testing.T) {
	f := tokSetup(t)
	var asked []string
	v, err := NewVerifier(f.ring, VerifierOptions{Clock: tokClock(&f.now), RoleExists: func(org, role string) bool {
		asked = append(asked, org+"/"+role)
		return f.roles.exists(org, role)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(f.token, tokTestOrg); err != nil {
		t.Fatal(err)
	}
	f.roles.remove(tokTestOrg, tokTestRole)
	_, err = v.Verify(f.token, tokTestOrg)
	tokWantReason(t, "deleted role", err, TokenRoleDeleted)
	if want := tokTestOrg + "/" + tokTestRole; len(asked) != 2 || asked[0] != want || asked[1] != want {
		t.Errorf("RoleExists asked %v", asked)
	}
	// Another role of the organization is unaffected.
	if _, err := v.Verify(tokIssue(t, f.is, tokTestOrg, tokTestRole2), tokTestOrg); err != nil {
		t.Errorf("other role: %v", err)
	}
}

// SEMANTICS B8: input that is not 1–256 characters of \x21–\x7e is malformed:
// empty, oversize (257+), space, tab, DEL, NUL, non-ASCII, invalid UTF-8.
func TestSemanticsB8_TokenOversizeAndNonPrintable(t *testing.T) {
	f := tokSetup(t)
	bad := map[string]string{
		"empty":         "",
		"257 A":         strings.Repeat("A", 257),
		"token padded":  f.token + strings.Repeat("A", 257-len(f.token)),
		"1 MiB":         strings.Repeat("v1.", 1<<20/3),
		"v1..":          "v1..",
		"v1.":           "v1.",
		"v1":            "v1",
		"v2":            "v2" + f.token[2:],
		"V1":            "V1" + f.token[2:],
		"no mac":        f.token[:strings.LastIndexByte(f.token, '.')],
		"empty mac":     f.token[:strings.LastIndexByte(f.token, '.')+1],
		"extra segment": f.token[:strings.LastIndexByte(f.token, '.')] + ".AAAA" + f.token[strings.LastIndexByte(f.token, '.'):],
		"padded base64": f.token[:strings.LastIndexByte(f.token, '.')] + "=" + f.token[strings.LastIndexByte(f.token, '.'):],
		"std base64":    strings.NewReplacer("-", "+", "_", "/").Replace(f.token),
	}
	if !strings.ContainsAny(f.token, "-_") {
		delete(bad, "std base64")
	}
	for _, c := range []string{" ", "\t", "\n", "\r", "\x7f", "\x00", "\x1f", "é", "\xff", "\xc3", "\u2028", "\ufeff"} {
		for _, at := range []int{0, 3, len(f.token) / 2, len(f.token) - 1, len(f.token)} {
			bad[fmt.Sprintf("insert %q at %d", c, at)] = f.token[:at] + c + f.token[at:]
		}
		if len(c) == 1 {
			b := []byte(f.token)
			b[len(b)/3] = c[0]
			bad[fmt.Sprintf("replace with %q", c)] = string(b)
		}
	}
	for name, s := range bad {
		_, err := f.v.Verify(s, tokTestOrg)
		tokWantReason(t, name, err, TokenMalformed)
	}
}

// SEMANTICS B8: empty, short, degenerate and duplicate keys, and bad key IDs, are
// refused at construction, without echoing the secret.
func TestSemanticsB8_KeyRingRefusesBadKeys(t *testing.T) {
	good := tokTestKey("good")
	short := Key{ID: "short", Secret: []byte("0123456789abcdef0123456789abcde")} // 31 bytes
	cases := []struct {
		name    string
		current Key
		older   []Key
		path    string
	}{
		{"nil secret", Key{ID: "a"}, nil, "Keys[0].Secret"},
		{"empty secret", Key{ID: "a", Secret: []byte{}}, nil, "Keys[0].Secret"},
		{"31-byte secret", short, nil, "Keys[0].Secret"},
		{"short older secret", good, []Key{short}, "Keys[1].Secret"},
		{"repeated byte", Key{ID: "a", Secret: bytes.Repeat([]byte{0}, 64)}, nil, "Keys[0].Secret"},
		{"repeated x", Key{ID: "a", Secret: bytes.Repeat([]byte("x"), 32)}, nil, "Keys[0].Secret"},
		{"empty ID", Key{Secret: good.Secret}, nil, "Keys[0].ID"},
		{"33-char ID", Key{ID: strings.Repeat("k", 33), Secret: good.Secret}, nil, "Keys[0].ID"},
		{"space in ID", Key{ID: "key 1", Secret: good.Secret}, nil, "Keys[0].ID"},
		{"slash in ID", Key{ID: "key/1", Secret: good.Secret}, nil, "Keys[0].ID"},
		{"non-ASCII ID", Key{ID: "clé", Secret: good.Secret}, nil, "Keys[0].ID"},
		{"duplicate current", good, []Key{tokTestKey("good")}, "Keys[1].ID"},
		{"duplicate older", good, []Key{tokTestKey("o"), tokTestKey("x"), tokTestKey("o")}, "Keys[3].ID"},
		{"duplicate ID, other secret", good, []Key{{ID: "good", Secret: tokTestKey("z").Secret}}, "Keys[1].ID"},
	}
	for _, c := range cases {
		r, err := NewKeyRing(c.current, c.older...)
		if r != nil || !errors.Is(err, policy.ErrValidation) {
			t.Errorf("%s: %v, %v; want a ValidationException", c.name, r, err)
			continue
		}
		errs := policy.Errors(err)
		if len(errs) != 1 || errs[0].Path != c.path {
			t.Errorf("%s: %v; want one error on %s", c.name, err, c.path)
		}
		for _, k := range append([]Key{c.current}, c.older...) {
			if len(k.Secret) >= 4 && (strings.Contains(err.Error(), string(k.Secret)) ||
				strings.Contains(err.Error(), hex.EncodeToString(k.Secret)) || strings.Contains(err.Error(), string(k.Secret[:4]))) {
				t.Errorf("%s: error %q echoes a secret", c.name, err)
			}
		}
	}
	// All problems are reported at once.
	_, err := NewKeyRing(Key{}, Key{ID: "x"})
	if n := len(policy.Errors(err)); n != 3 {
		t.Errorf("an empty key and a key without secret: %d errors (%v), want 3", n, err)
	}
	// Exactly 32 bytes is enough.
	if _, err := NewKeyRing(Key{ID: "ok", Secret: []byte("0123456789abcdef0123456789abcdef")}); err != nil {
		t.Errorf("32-byte secret: %v", err)
	}
}

// SEMANTICS B8: the ring keeps its own copy of the secrets: changing the caller's
// slice afterwards changes nothing.
func TestSemanticsB8_KeyRingCopiesSecrets(t *testing.T) {
	k := tokTestKey("k")
	secret := append([]byte(nil), k.Secret...)
	k.Secret = secret
	ring := tokRing(t, k)
	fresh := tokRing(t, tokTestKey("k")) // same secret, never touched
	for i := range secret {
		secret[i] = 0
	}
	now := tokTestTime
	is := tokIssuer(t, ring, now)
	tok := tokIssue(t, is, tokTestOrg, tokTestRole)
	roles := tokNewRoles(tokTestOrg, tokTestRole)
	if _, err := tokVerifier(t, fresh, &now, 0, roles).Verify(tok, tokTestOrg); err != nil {
		t.Fatalf("token of the ring whose caller's secret was zeroed does not verify under the original secret: %v", err)
	}
	zeroed := Key{ID: "k", Secret: make([]byte, 32)}
	zeroed.Secret[0] = 1
	if _, err := tokVerifier(t, tokRing(t, zeroed), &now, 0, roles).Verify(tok, tokTestOrg); err == nil {
		t.Fatal("token verifies under a different secret")
	}
}

// tokFailingReader is a random source that fails.
type tokFailingReader struct{}

func (tokFailingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// SEMANTICS B8, C4: the issuer validates its input like AssumeImpersonationRole.
func TestSemanticsB8_IssuerValidatesInput(t *testing.T) {
	ring := tokRing(t, tokTestKey("k"))
	is := tokIssuer(t, ring, tokTestTime)
	for _, org := range []string{"", "m-", "m-0123456789ABCDEF0123456789abcdef", "m-0123456789abcdef0123456789abcde", "x-0123456789abcdef0123456789abcdef", tokTestOrg + "0"} {
		_, err := is.AssumeImpersonationRole(org, tokTestRole)
		if es := policy.Errors(err); len(es) != 1 || es[0].Code != policy.ValidationException || es[0].Path != "OrganizationId" {
			t.Errorf("org %q: %v", org, err)
		}
	}
	for _, role := range []string{"", strings.Repeat("r", 65), "a b", "a.b", "é", "a\x00", "role/1"} {
		_, err := is.AssumeImpersonationRole(tokTestOrg, role)
		if es := policy.Errors(err); len(es) != 1 || es[0].Code != policy.ValidationException || es[0].Path != "ImpersonationRoleId" {
			t.Errorf("role %q: %v", role, err)
		}
	}
	if es := policy.Errors(func() error { _, err := is.AssumeImpersonationRole("", ""); return err }()); len(es) != 2 {
		t.Errorf("both wrong: %v", es)
	}
	if _, err := is.AssumeImpersonationRole(tokTestOrg, strings.Repeat("r", 64)); err != nil {
		t.Errorf("64-character role: %v", err)
	}

	roles := tokNewRoles(tokTestOrg, tokTestRole)
	withRoles, _ := NewIssuer(ring, IssuerOptions{RoleExists: roles.exists})
	if _, err := withRoles.AssumeImpersonationRole(tokTestOrg, tokTestRole2); !errors.Is(err, policy.ErrResourceNotFound) {
		t.Errorf("unknown role with RoleExists: %v", err)
	}
	if out, err := withRoles.AssumeImpersonationRole(tokTestOrg, tokTestRole); err != nil || out.Token == "" {
		t.Errorf("known role with RoleExists: %v", err)
	}

	failing, _ := NewIssuer(ring, IssuerOptions{Rand: tokFailingReader{}})
	if out, err := failing.AssumeImpersonationRole(tokTestOrg, tokTestRole); err == nil || out.Token != "" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("failing Rand: %+v, %v", out, err)
	}
	old, _ := NewIssuer(ring, IssuerOptions{Clock: func() time.Time { return time.Unix(-1, 0) }})
	if _, err := old.AssumeImpersonationRole(tokTestOrg, tokTestRole); err == nil {
		t.Error("clock before 1970 issued a token")
	}
}

// SEMANTICS B8, D1: every reason is a sentinel for errors.Is, carries a code, and
// a message that says nothing about the token.
func TestSemanticsB8_TokenErrors(t *testing.T) {
	all := []*TokenError{tokErrMalformed, tokErrBadSignature, tokErrExpired, tokErrNotYetValid, tokErrWrongOrg, tokErrRoleDeleted}
	seen := map[string]bool{}
	for i, e := range all {
		r := TokenReason(i + 1)
		if e.Reason != r || !errors.Is(e, r) || e.Err.Message == "" || seen[e.Error()] {
			t.Errorf("error %d: %+v", i, e)
		}
		seen[e.Error()] = true
		if !strings.HasPrefix(e.Error(), string(e.Err.Code)+": Token: ") {
			t.Errorf("Error() = %q", e.Error())
		}
		if r.String() == "" || strings.HasPrefix(r.String(), "TokenReason(") || r.Error() != "impersonation token: "+r.String() {
			t.Errorf("reason %d: String %q, Error %q", r, r.String(), r.Error())
		}
	}
	if s := TokenReason(0).String(); s != "TokenReason(0)" {
		t.Errorf("TokenReason(0) = %q", s)
	}
	if s := TokenReason(200).String(); s != "TokenReason(200)" {
		t.Errorf("TokenReason(200) = %q", s)
	}
	if errors.Is(tokErrExpired, policy.ErrValidation) || !errors.Is(tokErrExpired, policy.ErrInvalidParameter) {
		t.Error("expired: wrong policy sentinel match")
	}
	if errors.Is(errors.New("x"), TokenExpired) {
		t.Error("a foreign error matches TokenExpired")
	}
}

// tokForge builds a token for an arbitrary payload, correctly MACed under key
// (which must be in ring), to exercise the checks made after the MAC.
func tokForge(ring *KeyRing, keyID string, payload []byte) string {
	signed := tokPrefix + tokB64.EncodeToString(payload)
	var mac [tokMACLen]byte
	ring.byID[keyID].mac(&mac, signed)
	return signed + "." + tokB64.EncodeToString(mac[:])
}

func tokPayload(kid string, org []byte, role string, iat, exp int64, tail int) []byte {
	b := []byte{tokVersion, byte(len(kid))}
	b = append(b, kid...)
	b = append(b, org...)
	b = append(b, byte(len(role)))
	b = append(b, role...)
	b = binary.BigEndian.AppendUint64(b, uint64(iat))
	b = binary.BigEndian.AppendUint64(b, uint64(exp))
	b = append(b, make([]byte, 16+tail)...)
	return b
}

// SEMANTICS B8: the MAC is checked before any claim: a token whose claims were
// changed but whose MAC was kept is a bad signature, never "expired" or "wrong
// organization", and RoleExists is not asked. Authentic but impossible claims
// are malformed.
func TestSemanticsB8_TokenMACBeforeClaims(t *testing.T) {
	f := tokSetup(t)
	org, _ := hex.DecodeString(tokTestOrg[2:])
	org2, _ := hex.DecodeString(tokTestOrg2[2:])
	iat := tokTestTime.Unix()
	mac := f.token[strings.LastIndexByte(f.token, '.'):]

	good := tokPayload("k2", org, tokTestRole, iat, iat+900, 0)
	if tok := tokForge(f.ring, "k2", good); func() error { _, err := f.v.Verify(tok, tokTestOrg); return err }() != nil {
		t.Fatalf("forged-with-key token does not verify: the test's layout is wrong")
	}
	calls := f.roles.calls
	for name, p := range map[string][]byte{
		"other org":     tokPayload("k2", org2, tokTestRole, iat, iat+900, 0),
		"longer expiry": tokPayload("k2", org, tokTestRole, iat, iat+9000, 0),
		"expired":       tokPayload("k2", org, tokTestRole, iat-10000, iat-9100, 0),
		"other role":    tokPayload("k2", org, tokTestRole2, iat, iat+900, 0),
		"other key ID":  tokPayload("k1", org, tokTestRole, iat, iat+900, 0),
	} {
		tok := tokPrefix + tokB64.EncodeToString(p) + mac
		_, err := f.v.Verify(tok, tokTestOrg)
		tokWantReason(t, name, err, TokenBadSignature)
	}
	if f.roles.calls != calls {
		t.Errorf("RoleExists asked for tokens with a bad MAC")
	}

	// Authentic (correct MAC) but impossible claims: malformed.
	for name, p := range map[string][]byte{
		"expiry before issue":  tokPayload("k2", org, tokTestRole, iat, iat-1, 0),
		"expiry at issue":      tokPayload("k2", org, tokTestRole, iat, iat, 0),
		"lifetime over 900 s":  tokPayload("k2", org, tokTestRole, iat, iat+901, 0),
		"issued before 1970":   tokPayload("k2", org, tokTestRole, -100, 100, 0),
		"bad role characters":  tokPayload("k2", org, "role.1", iat, iat+900, 0),
		"empty role":           tokPayload("k2", org, "", iat, iat+900, 0),
		"65-character role":    tokPayload("k2", org, strings.Repeat("r", 65), iat, iat+900, 0),
		"trailing byte":        tokPayload("k2", org, tokTestRole, iat, iat+900, 1),
		"missing byte":         tokPayload("k2", org, tokTestRole, iat, iat+900, 0)[:len(good)-1],
		"short org":            append([]byte{tokVersion, 2, 'k', '2'}, org[:15]...),
		"version 2":            append([]byte{2}, good[1:]...),
		"key ID length 0":      append([]byte{tokVersion, 0}, good[2:]...),
		"key ID length past":   append([]byte{tokVersion, 200}, good[2:]...),
		"key ID length 33":     append([]byte{tokVersion, 33}, good[2:]...),
		"role length past end": append(append([]byte{}, good[:2+2+16]...), 200, 'r'),
	} {
		var tok string
		if p[0] == tokVersion && int(p[1]) >= 1 && int(p[1]) <= KeyMaxIDLen && len(p) >= 2+int(p[1]) && string(p[2:2+p[1]]) == "k2" {
			tok = tokForge(f.ring, "k2", p)
		} else {
			tok = tokPrefix + tokB64.EncodeToString(p) + mac
		}
		_, err := f.v.Verify(tok, tokTestOrg)
		tokWantReason(t, name, err, TokenMalformed)
	}
}

// SEMANTICS B8: MAC bytes are compared in constant time. The package's non-test
// files that do cryptography never compare bytes with bytes.Equal,
// bytes.Compare, reflect.DeepEqual or string(a) == string(b), and token.go
// compares MACs with hmac.Equal and never with == on MAC-like names.
func TestSemanticsB8_TokenMACComparedInConstantTime(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	sawToken, sawHMACEqual := false, false
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		crypto := name == "token.go"
		for _, imp := range file.Imports {
			switch strings.Trim(imp.Path.Value, `"`) {
			case "crypto/hmac", "crypto/sha256", "crypto/sha512", "crypto/subtle":
				crypto = true
			}
		}
		if !crypto {
			continue
		}
		consts := map[string]bool{} // constants (lengths and the like) are not MACs
		for _, d := range file.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						consts[id.Name] = true
					}
				}
			}
		}
		if name == "token.go" {
			sawToken = true
			if bytes.Contains(src, []byte("bytes.Equal(")) {
				t.Errorf("token.go contains bytes.Equal(")
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok {
						switch pkg.Name + "." + sel.Sel.Name {
						case "bytes.Equal", "bytes.Compare", "reflect.DeepEqual", "slices.Equal":
							t.Errorf("%s: %s.%s compares bytes in variable time", fset.Position(n.Pos()), pkg.Name, sel.Sel.Name)
						case "hmac.Equal":
							if name == "token.go" {
								sawHMACEqual = true
							}
						}
					}
				}
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					break
				}
				for _, side := range []ast.Expr{n.X, n.Y} {
					if tokIsStringConversion(side) {
						t.Errorf("%s: comparison of a string(...) conversion", fset.Position(n.Pos()))
					}
					if id, ok := side.(*ast.Ident); ok && consts[id.Name] {
						continue
					}
					if name == "token.go" && tokMACLike(side) {
						t.Errorf("%s: == on a MAC-like value", fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
	}
	if !sawToken || !sawHMACEqual {
		t.Errorf("token.go found %v, hmac.Equal used %v", sawToken, sawHMACEqual)
	}
}

func tokIsStringConversion(e ast.Expr) bool {
	c, ok := e.(*ast.CallExpr)
	if !ok || len(c.Args) != 1 {
		return false
	}
	id, ok := c.Fun.(*ast.Ident)
	return ok && id.Name == "string"
}

// tokMACLike reports whether e names something MAC-like: an identifier (or the
// root of a selector, index or slice expression) called mac, sum, got, want, sig,
// tag or similar.
func tokMACLike(e ast.Expr) bool {
	for {
		switch x := e.(type) {
		case *ast.SelectorExpr:
			if tokMACName(x.Sel.Name) {
				return true
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			return tokMACName(x.Name)
		default:
			return false
		}
	}
}

func tokMACName(s string) bool {
	s = strings.ToLower(s)
	for _, w := range []string{"mac", "sum", "sig", "tag", "got", "want", "digest"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// SEMANTICS B8: issuers and verifiers are safe for concurrent use (run with -race).
func TestSemanticsB8_TokenConcurrentUse(t *testing.T) {
	f := tokSetup(t)
	v, err := NewVerifier(f.ring, VerifierOptions{RoleExists: f.roles.exists, Clock: func() time.Time { return tokTestTime }})
	if err != nil {
		t.Fatal(err)
	}
	is, _ := NewIssuer(f.ring, IssuerOptions{Clock: func() time.Time { return tokTestTime }})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				out, err := is.AssumeImpersonationRole(tokTestOrg, tokTestRole)
				if err == nil {
					_, err = v.Verify(out.Token, tokTestOrg)
				}
				if err == nil {
					_, err = v.Verify(f.token, tokTestOrg)
				}
				if err == nil {
					if _, e := v.Verify(out.Token[1:], tokTestOrg); e == nil {
						err = errors.New("truncated token verified")
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// SEMANTICS B8 (property): for any well-formed organization, role, key ID and
// issue time, a token verifies with exactly its claims inside its lifetime, and
// any change of one character makes it fail.
func TestSemanticsB8_TokenRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		org := "m-" + rapid.StringMatching(`[0-9a-f]{32}`).Draw(rt, "org")
		role := rapid.StringMatching(`[a-zA-Z0-9_-]{1,64}`).Draw(rt, "role")
		kid := rapid.StringMatching(`[A-Za-z0-9._-]{1,32}`).Draw(rt, "kid")
		secret := rapid.SliceOfN(rapid.Byte(), 32, 80).Filter(func(b []byte) bool { return !tokRepeated(b) }).Draw(rt, "secret")
		sec := rapid.Int64Range(0, 1<<40).Draw(rt, "sec")
		nsec := rapid.Int64Range(0, 999_999_999).Draw(rt, "nsec")
		issued := time.Unix(sec, nsec)
		age := time.Duration(rapid.Int64Range(0, 900*int64(time.Second)-1).Draw(rt, "age"))

		ring, err := NewKeyRing(Key{ID: kid, Secret: secret})
		if err != nil {
			rt.Fatal(err)
		}
		is, _ := NewIssuer(ring, IssuerOptions{Clock: func() time.Time { return issued }, Rand: rand.NewChaCha8([32]byte{byte(sec)})})
		out, err := is.AssumeImpersonationRole(org, role)
		if err != nil {
			rt.Fatal(err)
		}
		if len(out.Token) > TokenMaxLen || !tokPrintableRef(out.Token) {
			rt.Fatalf("token %q", out.Token)
		}
		now := time.Unix(sec, 0).Add(age)
		v, _ := NewVerifier(ring, VerifierOptions{Clock: func() time.Time { return now }, RoleExists: func(o, r string) bool { return o == org && r == role }})
		c, err := v.Verify(out.Token, org)
		if err != nil {
			rt.Fatalf("Verify at age %v: %v", age, err)
		}
		if c.OrganizationID != org || c.RoleID != role || c.KeyID != kid || c.IssuedAt.Unix() != sec || c.ExpiresAt.Unix() != sec+900 {
			rt.Fatalf("claims %+v", c)
		}
		i := rapid.IntRange(0, len(out.Token)-1).Draw(rt, "i")
		ch := rapid.ByteRange(0x21, 0x7e).Filter(func(b byte) bool { return b != out.Token[i] }).Draw(rt, "ch")
		changed := out.Token[:i] + string(ch) + out.Token[i+1:]
		if _, err := v.Verify(changed, org); err == nil {
			rt.Fatalf("changing character %d to %q verified", i, ch)
		}
	})
}

// SEMANTICS B8: a token with a byte outside \x21–\x7e anywhere is
// TokenMalformed, at every position of a valid token and for every such byte
// (Verify has no character pass of its own: the prefix and the dot are
// compared, and the strict decoder refuses everything else outside base64url's
// alphabet), and so is a printable character outside the alphabet (other than
// the one dot) in the payload or the MAC.
func TestSemanticsB8_TokenPrintableCheck(t *testing.T) {
	f := tokSetup(t)
	for _, v := range []*Verifier{f.v, f.ewsVerifier(t)} {
		if _, err := v.Verify(f.token, tokTestOrg); err != nil {
			t.Fatalf("the valid token: %v", err)
		}
		for i := range len(f.token) {
			for c := 0; c < 256; c++ {
				printable := 0x21 <= c && c <= 0x7e
				inAlphabet := tokB64Val[c] != 0xff
				if printable && (inAlphabet || c == '.' || i < len(tokPrefix)) {
					continue // may be valid, or is another failure (bad signature)
				}
				b := []byte(f.token)
				b[i] = byte(c)
				_, err := v.Verify(string(b), tokTestOrg)
				if !errors.Is(err, TokenMalformed) {
					t.Fatalf("byte %#02x at %d: %v, want TokenMalformed", c, i, err)
				}
			}
		}
	}
}

// SEMANTICS B8: the token's base64url decoder agrees with encoding/base64's
// strict unpadded URL decoding (which it replaces for speed) on every input
// without CR or LF, which the standard decoder skips and tokDecode refuses.
func TestSemanticsB8_TokenBase64Decoder(t *testing.T) {
	check := func(fail func(string, ...any), src string) {
		var got, want [300]byte
		n, ok := tokDecode(got[:], src)
		m, err := tokB64.Decode(want[:], []byte(src))
		if strings.ContainsAny(src, "\r\n") {
			if ok {
				fail("tokDecode(%q) accepted a line break", src)
			}
			return
		}
		if ok != (err == nil) || ok && !bytes.Equal(got[:n], want[:m]) {
			fail("tokDecode(%q) = %x, %v; encoding/base64: %x, %v", src, got[:n], ok, want[:m], err)
		}
	}
	// Every length up to 40 of canonical encodings, and each with its last
	// character replaced by every byte value.
	for n := 0; n <= 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n)
		}
		enc := tokB64.EncodeToString(b)
		check(t.Fatalf, enc)
		for i := 0; i < len(enc); i += 7 {
			for c := 0; c < 256; c++ {
				check(t.Fatalf, enc[:i]+string([]byte{byte(c)})+enc[i+1:])
			}
		}
		if len(enc) > 0 {
			for c := 0; c < 256; c++ {
				check(t.Fatalf, enc[:len(enc)-1]+string([]byte{byte(c)}))
			}
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		src := rapid.StringMatching(`[A-Za-z0-9_\-]{0,80}`).Draw(rt, "src")
		if rapid.Bool().Draw(rt, "noise") {
			i := rapid.IntRange(0, len(src)).Draw(rt, "at")
			src = src[:i] + string([]byte{rapid.Byte().Draw(rt, "c")}) + src[i:]
		}
		check(rt.Fatalf, src)
	})
	// A destination too small is refused, not overrun.
	var small [5]byte
	if _, ok := tokDecode(small[:], "AAAAAAAA"); ok {
		t.Error("tokDecode into a too-small buffer succeeded")
	}
}

// ewsVerifier is a verifier as an EWSAuthorizer of tokTestOrg builds it, on
// the fixture's ring and clock, knowing tokTestRole only: it compares the
// organization as 16 bytes and looks roles up in its own map.
func (f *tokFixture) ewsVerifier(t testing.TB) *Verifier {
	t.Helper()
	ev, err := Compile(Role{ImpersonationRoleId: tokTestRole, Name: "r", Type: FullAccess}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := newVerifier(f.ring, VerifierOptions{Clock: func() time.Time { return f.now }}, map[string]*Evaluator{tokTestRole: ev}, tokTestOrg)
	if err != nil {
		t.Fatal(err)
	}
	if !v.rolesOrgOK {
		t.Fatal("the EWS verifier did not decode its organization")
	}
	return v
}

// SEMANTICS B8: a token for another organization does not verify with an
// EWSAuthorizer's verifier either, whichever organization the caller names:
// its own (compared as 16 bytes) or another (compared as text).
func TestSemanticsB8_EWSVerifierOtherOrganization(t *testing.T) {
	f := tokSetup(t)
	v := f.ewsVerifier(t)
	other := tokIssue(t, f.is, tokTestOrg2, tokTestRole)
	_, err := v.Verify(other, tokTestOrg)
	tokWantReason(t, "a token of another organization", err, TokenWrongOrganization)
	_, err = v.Verify(f.token, tokTestOrg2)
	tokWantReason(t, "the organization's token, for another", err, TokenWrongOrganization)
	for _, org := range []string{"", "m-0123456789ABCDEF0123456789ABCDEF", tokTestOrg + "0", tokTestOrg[:33]} {
		_, err = v.Verify(f.token, org)
		tokWantReason(t, fmt.Sprintf("organization %q", org), err, TokenWrongOrganization)
	}
	if c, err := v.Verify(f.token, tokTestOrg); err != nil || c.OrganizationID != tokTestOrg || c.RoleID != tokTestRole {
		t.Fatalf("the valid token: %+v, %v", c, err)
	}
}

// SEMANTICS B8: the claims of a verified token marshal in the API's member
// names, times in RFC 3339 and the token ID in hex.
func TestSemanticsB8_TokenClaimsJSON(t *testing.T) {
	c := TokenClaims{OrganizationID: "m-0123456789abcdef0123456789abcdef", RoleID: "role-1", KeyID: "k1",
		IssuedAt: time.Unix(1700000000, 0).UTC(), ExpiresAt: time.Unix(1700000900, 0).UTC(), TokenID: [16]byte{0: 0xab, 15: 0x01}}
	got, err := json.Marshal(c)
	want := `{"OrganizationId":"m-0123456789abcdef0123456789abcdef","ImpersonationRoleId":"role-1","KeyId":"k1",` +
		`"IssuedAt":"2023-11-14T22:13:20Z","ExpiresAt":"2023-11-14T22:28:20Z","TokenId":"ab000000000000000000000000000001"}`
	if err != nil || string(got) != want {
		t.Errorf("got %s, %v\nwant %s", got, err, want)
	}
}
