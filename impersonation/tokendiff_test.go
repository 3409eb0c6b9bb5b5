package impersonation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// reviewRefVerify is a literal transcription of the token format and of B8,
// using encoding/base64 (with CR and LF refused explicitly, since the standard
// decoders skip them) and crypto/hmac directly.
func reviewRefVerify(keys map[string][]byte, token, orgID string, now time.Time, leeway time.Duration, exists func(o, r string) bool) (TokenClaims, TokenReason) {
	if len(token) == 0 || len(token) > 256 {
		return TokenClaims{}, TokenMalformed
	}
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return TokenClaims{}, TokenMalformed
		}
	}
	if !strings.HasPrefix(token, "v1.") {
		return TokenClaims{}, TokenMalformed
	}
	parts := strings.Split(token[3:], ".")
	if len(parts) != 2 {
		return TokenClaims{}, TokenMalformed
	}
	enc := base64.RawURLEncoding.Strict()
	payload, err := enc.DecodeString(parts[0])
	if err != nil {
		return TokenClaims{}, TokenMalformed
	}
	mac, err := enc.DecodeString(parts[1])
	if err != nil || len(mac) != 32 {
		return TokenClaims{}, TokenMalformed
	}
	if len(payload) < 53 || len(payload) > 147 || payload[0] != 1 {
		return TokenClaims{}, TokenMalformed
	}
	kl := int(payload[1])
	if kl == 0 || kl > 32 || len(payload) < 2+kl {
		return TokenClaims{}, TokenMalformed
	}
	kid := string(payload[2 : 2+kl])
	secret, ok := keys[kid]
	if !ok {
		return TokenClaims{}, TokenBadSignature
	}
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(tokDomain + "v1." + parts[0]))
	if !hmac.Equal(h.Sum(nil), mac) {
		return TokenClaims{}, TokenBadSignature
	}
	c := payload[2+kl:]
	if len(c) < 17 {
		return TokenClaims{}, TokenMalformed
	}
	org := c[:16]
	rl := int(c[16])
	c = c[17:]
	if len(c) != rl+32 || rl < 1 || rl > 64 {
		return TokenClaims{}, TokenMalformed
	}
	role := string(c[:rl])
	for i := 0; i < len(role); i++ {
		ch := role[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '_' || ch == '-') {
			return TokenClaims{}, TokenMalformed
		}
	}
	iat := int64(binary.BigEndian.Uint64(c[rl:]))
	exp := int64(binary.BigEndian.Uint64(c[rl+8:]))
	if iat < 0 || exp <= iat || exp-iat > 900 {
		return TokenClaims{}, TokenMalformed
	}
	const hexd = "0123456789abcdef"
	var want strings.Builder
	want.WriteString("m-")
	for _, b := range org {
		want.WriteByte(hexd[b>>4])
		want.WriteByte(hexd[b&15])
	}
	if orgID != want.String() {
		return TokenClaims{}, TokenWrongOrganization
	}
	if !now.Before(time.Unix(exp, 0)) {
		return TokenClaims{}, TokenExpired
	}
	if time.Unix(iat, 0).After(now.Add(leeway)) {
		return TokenClaims{}, TokenNotYetValid
	}
	if !exists(orgID, role) {
		return TokenClaims{}, TokenRoleDeleted
	}
	cl := TokenClaims{OrganizationID: orgID, RoleID: role, KeyID: kid, IssuedAt: time.Unix(iat, 0).UTC(), ExpiresAt: time.Unix(exp, 0).UTC()}
	copy(cl.TokenID[:], c[rl+16:])
	return cl, 0
}

// TestSemanticsB8_VerifyDifferential: SEMANTICS B8 and Verify's documented
// order of checks. Tokens built field by field (any key ID length and
// content, any role length, any times around the clock, any organization),
// signed with a ring key, an unknown key or garbage, then optionally mutated
// (a byte changed, CR/LF inserted, truncated, extended): Verify must give
// the reason and claims of a plain transcription of the format.
func TestSemanticsB8_VerifyDifferential(t *testing.T) {
	ids := []string{"k", "key-2", strings.Repeat("K", 32), "a.b_c", "k5", "k6", "k7"}
	secrets := map[string][]byte{}
	var ks []Key
	for _, id := range ids {
		k := tokTestKey(id)
		secrets[id] = k.Secret
		ks = append(ks, k)
	}
	for _, nkeys := range []int{1, 3, 7} {
		ring := tokRing(t, ks[0], ks[1:nkeys]...)
		inRing := map[string][]byte{}
		for _, k := range ks[:nkeys] {
			inRing[k.ID] = k.Secret
		}
		now := tokTestTime
		exists := func(o, r string) bool { return o == tokTestOrg && r != "gone" }
		for _, leeway := range []time.Duration{0, 30 * time.Second} {
			v, err := NewVerifier(ring, VerifierOptions{Clock: func() time.Time { return now }, Leeway: leeway, RoleExists: exists})
			if err != nil {
				t.Fatal(err)
			}
			rapid.Check(t, func(t *rapid.T) {
				kid := rapid.SampledFrom(append(ids, "zz", "")).Draw(t, "kid")
				var p []byte
				p = append(p, byte(rapid.SampledFrom([]int{1, 1, 1, 0, 2}).Draw(t, "version")))
				kl := len(kid)
				if rapid.IntRange(0, 9).Draw(t, "bad kl?") == 0 {
					kl = rapid.IntRange(0, 255).Draw(t, "kl")
				}
				p = append(p, byte(kl))
				p = append(p, kid...)
				org := tokTestOrg
				if rapid.IntRange(0, 5).Draw(t, "org2?") == 0 {
					org = tokTestOrg2
				}
				ob, _ := tokOrgBytes(org)
				p = append(p, ob[:]...)
				role := rapid.SampledFrom([]string{"r", tokTestRole, strings.Repeat("x", 64), "gone", "bad.role", strings.Repeat("y", 65)}).Draw(t, "role")
				rl := len(role)
				if rapid.IntRange(0, 9).Draw(t, "bad rl?") == 0 {
					rl = rapid.IntRange(0, 255).Draw(t, "rl")
				}
				p = append(p, byte(rl))
				p = append(p, role...)
				iat := now.Unix() + int64(rapid.IntRange(-1000, 100).Draw(t, "iat off"))
				exp := iat + int64(rapid.SampledFrom([]int{900, 900, 1, 0, -1, 901, 500}).Draw(t, "life"))
				if rapid.IntRange(0, 20).Draw(t, "neg?") == 0 {
					iat = -int64(rapid.IntRange(1, 5).Draw(t, "neg"))
				}
				p = binary.BigEndian.AppendUint64(p, uint64(iat))
				p = binary.BigEndian.AppendUint64(p, uint64(exp))
				p = append(p, make([]byte, rapid.SampledFrom([]int{16, 16, 16, 15, 17}).Draw(t, "idlen"))...)
				signed := "v1." + base64.RawURLEncoding.EncodeToString(p)
				sk := secrets[kid]
				if sk == nil {
					sk = secrets["k"]
				}
				h := hmac.New(sha256.New, sk)
				h.Write([]byte(tokDomain + signed))
				tok := signed + "." + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
				switch rapid.IntRange(0, 6).Draw(t, "mutate") {
				case 0:
					i := rapid.IntRange(0, len(tok)-1).Draw(t, "pos")
					tok = tok[:i] + string(rune(rapid.IntRange(0x20, 0x7f).Draw(t, "ch"))) + tok[i+1:]
				case 1:
					i := rapid.IntRange(0, len(tok)).Draw(t, "pos")
					tok = tok[:i] + rapid.SampledFrom([]string{"\n", "\r", "\r\n", "=", "A"}).Draw(t, "ins") + tok[i:]
				case 2:
					tok = tok[:rapid.IntRange(0, len(tok)).Draw(t, "cut")]
				}
				nowOff := time.Duration(rapid.SampledFrom([]int{0, 0, 1, -1, 500, 999}).Draw(t, "ms")) * time.Millisecond
				now = tokTestTime.Add(nowOff)
				if rapid.Bool().Draw(t, "whole second?") {
					now = tokTestTime.Truncate(time.Second).Add(time.Duration(rapid.IntRange(-2, 2).Draw(t, "s")) * time.Second)
				}
				want, wr := reviewRefVerify(inRing, tok, tokTestOrg, now, leeway, exists)
				got, err := v.Verify(tok, tokTestOrg)
				var gr TokenReason
				if err != nil {
					var te *TokenError
					if !errors.As(err, &te) {
						t.Fatalf("%q: error %v is not a *TokenError", tok, err)
					}
					gr = te.Reason
				}
				if gr != wr || got != want {
					t.Fatalf("%q (now %v, leeway %v): Verify = %v %+v, reference = %v %+v", tok, now, leeway, gr, got, wr, want)
				}
			})
		}
	}
}

// TestSemanticsB8_PooledMACsDoNotMix: B8. Each key's pool of HMAC states must
// only ever compute that key's MAC, whatever other keys and goroutines do at
// the same time (run with -race).
func TestSemanticsB8_PooledMACsDoNotMix(t *testing.T) {
	ring := tokRing(t, tokTestKey("a"), tokTestKey("b"), tokTestKey("c"), tokTestKey("d"), tokTestKey("e"))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				k := ring.keys[(g+i)%len(ring.keys)]
				text := strings.Repeat("x", (g*7+i)%240)
				var got [32]byte
				k.mac(&got, text)
				h := hmac.New(sha256.New, k.secret)
				h.Write([]byte(tokDomain + text))
				if !hmac.Equal(got[:], h.Sum(nil)) {
					t.Errorf("key %s text len %d: pooled MAC differs", k.id, len(text))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSemanticsB8_LowLevelHelpersAgree: B8's encoding check. tokDecode must
// agree with encoding/base64's strict RawURLEncoding (minus its skipping of CR
// and LF), for strings drawn from the boundary bytes at every length and
// offset.
func TestSemanticsB8_LowLevelHelpersAgree(t *testing.T) {
	edge := []byte{0x00, 0x01, 0x0a, 0x0d, 0x1f, 0x20, 0x21, 0x22, 0x3d, 0x2d, 0x5f, 0x2b, 0x2f, 0x41, 0x61, 0x7a, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xa1, 0xfe, 0xff}
	alpha := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 80).Draw(t, "n")
		b := make([]byte, n)
		for i := range b {
			if rapid.IntRange(0, 3).Draw(t, "edge?") == 0 {
				b[i] = rapid.SampledFrom(edge).Draw(t, "e")
			} else {
				b[i] = alpha[rapid.IntRange(0, 63).Draw(t, "a")]
			}
		}
		s := string(b)
		dst := make([]byte, rapid.IntRange(0, 70).Draw(t, "dst"))
		got, ok := tokDecode(dst, s)
		ref, err := base64.RawURLEncoding.Strict().DecodeString(s)
		wantOK := err == nil && len(ref) <= len(dst) && !strings.ContainsAny(s, "\r\n")
		if ok != wantOK || ok && string(dst[:got]) != string(ref) {
			t.Fatalf("tokDecode(%q, %d) = %d %v, reference %x %v", s, len(dst), got, ok, ref, err)
		}
	})
}
