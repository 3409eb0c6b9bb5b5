package awsapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/wmpolicy/wmpolicy/org"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The performance of issue 14: GetAccessControlEffect over loopback HTTP
// with SigV4 verification, 50 concurrent clients, against the same kind of
// server answering a constant response without verification, measured in
// the same run. Run:
//
//	go test -run '^$' -bench 'APILoopback' -benchtime 20000x ./awsapi
//
// BenchmarkVerify and BenchmarkServeHTTP give the verification's own cost
// per request.

const loadClients = 50

// benchOrg returns a store with one organization holding ten rules and a
// directory of 100 users, and a GetAccessControlEffect body for it.
func benchOrg(b *testing.B) (*org.Store, []byte) {
	s, err := org.Open(org.Options{})
	if err != nil {
		b.Fatal(err)
	}
	out, err := s.CreateOrganization(context.Background(), org.CreateOrganizationInput{Alias: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	id := out.OrganizationId
	for i := 0; i < 100; i++ {
		if _, err := s.PutUser(context.Background(), org.PutUserInput{OrganizationId: id, User: org.User{Id: fmt.Sprintf("S-1-1-11-1111111111-2222222222-3333333333-%04d", i),
			Email: fmt.Sprintf("u%d@bench.awsapps.com", i), Name: fmt.Sprintf("u%d", i), State: "ENABLED"}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 9; i++ {
		if _, err := s.PutAccessControlRule(context.Background(), org.PutAccessControlRuleInput{OrganizationId: id, Name: fmt.Sprintf("r%d", i), Effect: policy.Deny,
			Description: "bench", Actions: []string{"IMAP"}, IpRanges: []string{fmt.Sprintf("10.%d.0.0/16", i)}, NotUserIds: []string{"u1@bench.awsapps.com"}}); err != nil {
			b.Fatal(err)
		}
	}
	body := []byte(`{"OrganizationId":"` + id + `","IpAddress":"10.3.1.2","Action":"IMAP","UserId":"u7@bench.awsapps.com"}`)
	return s, body
}

func benchHandler(b *testing.B, s *org.Store) *Handler {
	creds, err := ParseCredentials([]byte(`{"Keys":[{"AccessKeyId":"` + testKeyID + `","SecretAccessKey":"` + testSecret + `"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	h, err := NewHandler(Options{Store: s, Credentials: creds})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// constantHandler answers every request with GetAccessControlEffect's
// answer, reading the body but verifying, decoding and evaluating nothing.
type constantHandler struct{ answer []byte }

func (c constantHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, MaxBodyBytes))
	w.Header().Set("Content-Type", ContentType)
	w.Write(c.answer)
}

// loadRound sends n requests with 50 concurrent clients, each a copy of
// the same signed request, and returns the requests per second and every
// latency.
func loadRound(b *testing.B, url string, body []byte, header http.Header, client *http.Client, n int) (float64, []time.Duration) {
	var wg sync.WaitGroup
	lat := make([][]time.Duration, loadClients)
	next := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	for c := 0; c < loadClients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for range next {
				r, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				r.Header = header.Clone()
				t0 := time.Now()
				resp, err := client.Do(r)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[c] = append(lat[c], time.Since(t0))
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return float64(n) / elapsed.Seconds(), all
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(p*float64(len(d)-1))]
}

// BenchmarkAPILoopback runs b.N requests against each of two loopback
// servers, interleaved in rounds of 2000 so that both see the same machine:
// the Handler (SigV4 verification, strict decoding, the store's
// GetAccessControlEffect, JSON encoding) and a server answering a constant
// response. Clients send the same pre-signed request to both (signing once,
// so that the client side costs the same). Metrics: requests/s of each, their
// ratio (issue 14 wants ≥ 0.7), and the p50/p99 latency of the Handler.
func BenchmarkAPILoopback(b *testing.B) {
	s, body := benchOrg(b)
	defer s.Close()
	h := benchHandler(b, s)
	real := httptest.NewServer(h)
	defer real.Close()
	// The same answer the Handler gives, so that both send the same bytes.
	rec := httptest.NewRecorder()
	probe := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	probe.Header.Set("Content-Type", ContentType)
	probe.Header.Set("X-Amz-Target", TargetPrefix+"GetAccessControlEffect")
	SignRequest(probe, body, testKeyID, testSecret, DefaultRegion, time.Now())
	h.ServeHTTP(rec, probe)
	if rec.Code != 200 {
		b.Fatalf("probe: %d %s", rec.Code, rec.Body)
	}
	constant := httptest.NewServer(constantHandler{answer: rec.Body.Bytes()})
	defer constant.Close()

	signed := func(url string) http.Header {
		r, _ := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", ContentType)
		r.Header.Set("X-Amz-Target", TargetPrefix+"GetAccessControlEffect")
		SignRequest(r, body, testKeyID, testSecret, DefaultRegion, time.Now())
		return r.Header
	}
	hReal, hConst := signed(real.URL), signed(constant.URL)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients,
		DialContext: (&net.Dialer{}).DialContext}}
	defer client.CloseIdleConnections()
	// Warm both (connections, caches).
	loadRound(b, real.URL+"/", body, hReal, client, 500)
	loadRound(b, constant.URL+"/", body, hConst, client, 500)

	b.ResetTimer()
	var realTime, constTime time.Duration
	var realLat, constLat []time.Duration
	for done := 0; done < b.N; {
		n := min(2000, b.N-done)
		t0 := time.Now()
		_, l := loadRound(b, constant.URL+"/", body, hConst, client, n)
		constTime += time.Since(t0)
		constLat = append(constLat, l...)
		t0 = time.Now()
		_, l = loadRound(b, real.URL+"/", body, hReal, client, n)
		realTime += time.Since(t0)
		realLat = append(realLat, l...)
		done += n
	}
	b.StopTimer()
	realRPS := float64(b.N) / realTime.Seconds()
	constRPS := float64(b.N) / constTime.Seconds()
	b.ReportMetric(realRPS, "signed-req/s")
	b.ReportMetric(constRPS, "constant-req/s")
	b.ReportMetric(realRPS/constRPS, "ratio")
	b.ReportMetric(float64(percentile(realLat, 0.50).Microseconds())/1000, "signed-p50-ms")
	b.ReportMetric(float64(percentile(realLat, 0.99).Microseconds())/1000, "signed-p99-ms")
	b.ReportMetric(float64(percentile(constLat, 0.99).Microseconds())/1000, "constant-p99-ms")
}

// benchRequest returns a signed GetAccessControlEffect request for h.
func benchRequest(body []byte, sign bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("Content-Type", ContentType)
	r.Header.Set("X-Amz-Target", TargetPrefix+"GetAccessControlEffect")
	if sign {
		SignRequest(r, body, testKeyID, testSecret, DefaultRegion, time.Now())
	}
	return r
}

// BenchmarkVerify is the SigV4 verification of one request alone (the
// derived key cached): its cost per request.
func BenchmarkVerify(b *testing.B) {
	s, body := benchOrg(b)
	defer s.Close()
	h := benchHandler(b, s)
	r := benchRequest(body, true)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeHTTP is one whole GetAccessControlEffect through
// ServeHTTP, in process (no network): signed and verified, and with
// authentication off. The difference is what verification adds.
func BenchmarkServeHTTP(b *testing.B) {
	s, body := benchOrg(b)
	defer s.Close()
	for _, mode := range []string{"signed", "no-auth"} {
		b.Run(mode, func(b *testing.B) {
			h := benchHandler(b, s)
			if mode == "no-auth" {
				h, _ = NewHandler(Options{Store: s, InsecureNoAuth: true})
			}
			tmpl := benchRequest(body, mode == "signed")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := tmpl.Clone(context.Background())
				r.Body = io.NopCloser(bytes.NewReader(body))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// The verification of a request allocates nothing once its signing key is
// cached (SEMANTICS F3's cost; the hot path of every API request).
func TestVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops values at random under the race detector")
	}
	e := newTestEnv(t, nil)
	body := []byte(`{"OrganizationId":"` + e.org + `"}`)
	r := e.request(testKeyID, testSecret, "ListAccessControlRules", body)
	if _, err := e.h.verify(r, body); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := e.h.verify(r, body); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("verify allocates %v times per request", n)
	}
}
