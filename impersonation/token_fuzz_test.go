package impersonation

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// FuzzTokenVerify feeds arbitrary strings to Verify (SEMANTICS B8). Properties:
// Verify never panics; every failure is a *TokenError with a known reason; and a
// string verifies only if it is one of the tokens the issuer made, with exactly
// that token's claims.
func FuzzTokenVerify(f *testing.F) {
	ring := tokRing(f, tokTestKey("k2"), tokTestKey("k1"))
	old := tokRing(f, tokTestKey("k1"))
	issued := map[string]TokenClaims{}
	now := tokTestTime.Add(10 * time.Second)
	roles := tokNewRoles(tokTestOrg, tokTestRole, tokTestOrg, tokTestRole2, tokTestOrg, "r", tokTestOrg2, tokTestRole)
	v := tokVerifier(f, ring, &now, 5*time.Second, roles)

	var tokens []string
	for i, r := range []*KeyRing{ring, old} {
		is, err := NewIssuer(r, IssuerOptions{
			Clock: func() time.Time { return tokTestTime },
			Rand:  rand.NewChaCha8([32]byte{byte(i)}),
		})
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range [][2]string{{tokTestOrg, tokTestRole}, {tokTestOrg, tokTestRole2}, {tokTestOrg, "r"}, {tokTestOrg2, tokTestRole}, {tokTestOrg, strings.Repeat("x", 64)}} {
			tok := tokIssue(f, is, p[0], p[1])
			c, err := v.Verify(tok, p[0])
			if p[1] == strings.Repeat("x", 64) { // a role that does not exist
				if !errors.Is(err, TokenRoleDeleted) {
					f.Fatalf("token of an unknown role: %v", err)
				}
				tokens = append(tokens, tok)
				continue
			}
			if err != nil {
				f.Fatalf("seed token %q: %v", tok, err)
			}
			issued[tok] = c
			tokens = append(tokens, tok)
		}
	}

	for _, tok := range tokens {
		f.Add(tok)
		for _, n := range []int{0, 1, 3, 4, len(tok) / 2, len(tok) - 44, len(tok) - 43, len(tok) - 1} {
			f.Add(tok[:n])
		}
		f.Add(tok + "A")
		f.Add(tok[:len(tok)-1] + "\x00")
		f.Add(strings.Replace(tok, ".", "..", 1))
	}
	for _, s := range []string{
		"", "v1", "v1.", "v1..", "v1...", "v1.A.A", "v2.AAAA.AAAA", "garbage",
		strings.Repeat("A", 256), strings.Repeat("A", 257), strings.Repeat("v1.", 4000),
		"v1." + strings.Repeat("A", 200) + "." + strings.Repeat("A", 43),
		"v1.AQE" + strings.Repeat("A", 120) + "." + strings.Repeat("_", 43),
		"v1.é.ü", "v1.\xff\xfe.\x00", "\t v1.", "v1.\u2028." + strings.Repeat("A", 43),
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, s string) {
		for _, org := range []string{tokTestOrg, tokTestOrg2} {
			c, err := v.Verify(s, org)
			if err != nil {
				var te *TokenError
				if !errors.As(err, &te) || te.Reason < TokenMalformed || te.Reason > TokenRoleDeleted || te.Err == nil {
					t.Fatalf("Verify(%q): error %T %v is not a *TokenError with a known reason", s, err, err)
				}
				if len(s) >= 8 && strings.Contains(err.Error(), s) {
					t.Fatalf("Verify(%q): the error echoes the input", s)
				}
				continue
			}
			want, ok := issued[s]
			if !ok {
				t.Fatalf("Verify(%q, %s) succeeded for a string the issuer never made: %+v", s, org, c)
			}
			if c != want || c.OrganizationID != org {
				t.Fatalf("Verify(%q) = %+v, want %+v", s, c, want)
			}
		}
	})
}
