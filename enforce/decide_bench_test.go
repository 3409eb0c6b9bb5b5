package enforce

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// BenchmarkDecideLogged: one decision (a DENY by a rule, resolved by email)
// with the log discarded, written as JSON and as text to io.Discard: the
// decision itself against the record every decision writes.
func BenchmarkDecideLogged(b *testing.B) {
	src, _, _ := exampleSource(b, nil)
	for _, tc := range []struct {
		name string
		log  *slog.Logger
	}{{"discard", slog.New(slog.DiscardHandler)}, {"json", slog.New(slog.NewJSONHandler(io.Discard, nil))}, {"text", slog.New(slog.NewTextHandler(io.Discard, nil))}} {
		b.Run(tc.name, func(b *testing.B) {
			d := &Decider{Source: src, Log: tc.log}
			q := Question{"imap", netip.MustParseAddr("203.0.113.7"), "bob@example.com", accessctl.IMAP}
			a := Answer{Rules: make([]string, 0, 8)}
			b.ReportAllocs()
			for b.Loop() {
				d.Decide(context.Background(), q, &a)
			}
		})
	}
}
