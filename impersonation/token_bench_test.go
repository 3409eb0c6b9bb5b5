package impersonation

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// tokBenchSetup returns a verifier, an issuer and a valid token with a 36-character
// role ID (a UUID, as CreateImpersonationRole returns).
func tokBenchSetup(b *testing.B) (*Verifier, *Issuer, string) {
	b.Helper()
	ring := tokRing(b, tokTestKey("2025-03"), tokTestKey("2025-02"))
	is := tokIssuer(b, ring, tokTestTime)
	now := tokTestTime.Add(time.Minute)
	v, err := NewVerifier(ring, VerifierOptions{
		Clock:      func() time.Time { return now },
		RoleExists: func(org, role string) bool { return org == tokTestOrg && role == tokTestRole },
	})
	if err != nil {
		b.Fatal(err)
	}
	return v, is, tokIssue(b, is, tokTestOrg, tokTestRole)
}

// BenchmarkTokenVerify measures the gateway's hot path: a valid token verified.
func BenchmarkTokenVerify(b *testing.B) {
	v, _, tok := tokBenchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok, tokTestOrg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenVerifyParallel is BenchmarkTokenVerify from all CPUs at once.
//
// Run it with a time -benchtime (the default), not a count: with a count
// RunParallel hands out iterations one or two at a time through one shared
// counter (golang/go#37996), which then dominates the time per op (see
// accessctl's BenchmarkEvaluateParallel). It logs a warning when given a count.
func BenchmarkTokenVerifyParallel(b *testing.B) {
	if countBenchtime() {
		b.Log("-benchtime is a count: RunParallel will hand out iterations one at a time (golang/go#37996); use a duration")
	}
	v, _, tok := tokBenchSetup(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(tok, tokTestOrg); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkTokenVerifyBadSignature measures rejecting a forged token (same work
// as a valid one up to the MAC, and no allocation).
func BenchmarkTokenVerifyBadSignature(b *testing.B) {
	v, _, tok := tokBenchSetup(b)
	forged := tokTamper(tok)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(forged, tokTestOrg); !errors.Is(err, TokenBadSignature) {
			b.Fatalf("forged token: %v", err)
		}
	}
}

// BenchmarkTokenIssue measures AssumeImpersonationRole (crypto/rand token IDs).
func BenchmarkTokenIssue(b *testing.B) {
	_, is, _ := tokBenchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := is.AssumeImpersonationRole(tokTestOrg, tokTestRole); err != nil {
			b.Fatal(err)
		}
	}
}

// countBenchtime reports whether -test.benchtime is a count ("1000x"), with
// which RunParallel's per-op times measure its shared counter, not the code.
func countBenchtime() bool {
	f := flag.Lookup("test.benchtime")
	return f != nil && strings.HasSuffix(f.Value.String(), "x")
}

// CountBenchtime is countBenchtime for the package's external benchmarks.
var CountBenchtime = countBenchtime
