package enforce

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// nopWriter is a ResponseWriter that keeps only the status code, so that the
// benchmarks measure the handlers.
type nopWriter struct {
	h    http.Header
	code int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkDovecotHandler: one Dovecot policy request through the handler,
// without the network (the protocol's parsing and the decision).
func BenchmarkDovecotHandler(b *testing.B) {
	src, _, _ := exampleSource(b, nil)
	h, _ := NewDovecotPolicy(&Decider{Source: src, Log: slog.New(slog.DiscardHandler)}, DovecotOptions{})
	body := `{"device_id":"","login":"bob@example.com","protocol":"imap","pwhash":"8a3f1c2d4e5b","remote":"203.0.113.7","session_id":"x/OtwAJi4Jt/AAAB"}`
	req := httptest.NewRequest(http.MethodPost, "/?command=allow", nil)
	rd := strings.NewReader(body)
	req.Body = io.NopCloser(rd)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		h.ServeHTTP(w, req)
	}
}

// BenchmarkNginxMailHandler: one auth_http request through the handler.
func BenchmarkNginxMailHandler(b *testing.B) {
	src, _, _ := exampleSource(b, nil)
	h, _ := NewNginxMail(&Decider{Source: src, Log: slog.New(slog.DiscardHandler)}, NginxMailOptions{IMAPBackend: imapBackend})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header = http.Header{"Auth-Method": {"plain"}, "Auth-User": {"bob@example.com"}, "Auth-Pass": {"secret"},
		"Auth-Protocol": {"imap"}, "Auth-Login-Attempt": {"1"}, "Client-Ip": {"203.0.113.7"}}
	b.ReportAllocs()
	for b.Loop() {
		w := &nopWriter{h: http.Header{}}
		h.ServeHTTP(w, req)
	}
}

// BenchmarkPostfixRequest: one policy request read and answered on a
// connection (in memory).
func BenchmarkPostfixRequest(b *testing.B) {
	src, _, _ := exampleSource(b, nil)
	p, _ := NewPostfixPolicy(&Decider{Source: src, Log: slog.New(slog.DiscardHandler)}, PostfixOptions{})
	one := "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=203.0.113.7\nsasl_method=PLAIN\nsasl_username=bob@example.com\nsize=0\n\n"
	in := strings.Repeat(one, 1000)
	b.ReportAllocs()
	for b.Loop() {
		c := &memConn{r: strings.NewReader(in)}
		p.ServeConn(b.Context(), c)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/request")
}
