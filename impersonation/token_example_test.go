package impersonation_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/wmpolicy/wmpolicy/impersonation"
	"github.com/wmpolicy/wmpolicy/policy"
)

// exampleTokSecret stands in for 32 bytes from crypto/rand kept in a secret store.
func exampleTokSecret(name string) []byte {
	s := sha256.Sum256([]byte(name))
	return s[:]
}

// An Issuer answers AssumeImpersonationRole with a token the gateway can verify
// offline, signed with the ring's current key.
func ExampleIssuer() {
	ring, err := impersonation.NewKeyRing(impersonation.Key{ID: "2025-06", Secret: exampleTokSecret("june")})
	if err != nil {
		panic(err)
	}
	issuer, err := impersonation.NewIssuer(ring, impersonation.IssuerOptions{})
	if err != nil {
		panic(err)
	}
	out, err := issuer.AssumeImpersonationRole("m-0123456789abcdef0123456789abcdef", "2d1f7a3c-9b4e-4f8a-a2c1-6e5d4c3b2a10")
	if err != nil {
		panic(err)
	}
	fmt.Println(out.ExpiresIn, len(out.Token) <= impersonation.TokenMaxLen, out.Token[:3])

	_, err = issuer.AssumeImpersonationRole("m-0123", "role 1")
	for _, e := range policy.Errors(err) {
		fmt.Println(e.Code, e.Path)
	}
	// Output:
	// 900 true v1.
	// ValidationException OrganizationId
	// ValidationException ImpersonationRoleId
}

// A Verifier checks a token for one organization, with any key still in the
// ring; errors tell why a token was refused.
func ExampleVerifier() {
	const org = "m-0123456789abcdef0123456789abcdef"
	const role = "2d1f7a3c-9b4e-4f8a-a2c1-6e5d4c3b2a10"
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	roles := map[string]bool{role: true}

	june := impersonation.Key{ID: "2025-06", Secret: exampleTokSecret("june")}
	july := impersonation.Key{ID: "2025-07", Secret: exampleTokSecret("july")}
	oldRing, _ := impersonation.NewKeyRing(june)
	oldIssuer, _ := impersonation.NewIssuer(oldRing, impersonation.IssuerOptions{Clock: clock})
	out, _ := oldIssuer.AssumeImpersonationRole(org, role)

	// Rotation: July's key signs new tokens; June's still verifies.
	ring, _ := impersonation.NewKeyRing(july, june)
	verifier, err := impersonation.NewVerifier(ring, impersonation.VerifierOptions{
		Clock:      clock,
		Leeway:     5 * time.Second,
		RoleExists: func(orgID, roleID string) bool { return orgID == org && roles[roleID] },
	})
	if err != nil {
		panic(err)
	}
	claims, err := verifier.Verify(out.Token, org)
	fmt.Println(claims.RoleID == role, claims.KeyID, claims.ExpiresAt.Format(time.RFC3339), err)

	_, err = verifier.Verify(out.Token, "m-fedcba9876543210fedcba9876543210")
	fmt.Println(errors.Is(err, impersonation.TokenWrongOrganization), err)

	now = now.Add(15 * time.Minute)
	_, err = verifier.Verify(out.Token, org)
	fmt.Println(errors.Is(err, impersonation.TokenExpired), policy.CodeOf(err))

	now = now.Add(-time.Minute)
	delete(roles, role)
	_, err = verifier.Verify(out.Token, org)
	fmt.Println(errors.Is(err, impersonation.TokenRoleDeleted), policy.CodeOf(err))

	tampered := []byte(out.Token)
	tampered[10] ^= 1 // still a base64url character: the key ID changes
	_, err = verifier.Verify(string(tampered), org)
	var te *impersonation.TokenError
	fmt.Println(errors.As(err, &te), te.Reason.String(), err)
	// Output:
	// true 2025-06 2025-06-01T12:15:00Z <nil>
	// true InvalidParameterException: Token: the token was issued for another organization
	// true InvalidParameterException
	// true ResourceNotFoundException
	// true bad signature InvalidParameterException: Token: the token's signature is not valid
}
