package enforce

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadResult is one round of a load: requests per second and latency
// percentiles.
type loadResult struct {
	rps      float64
	p50, p99 time.Duration
}

// load sends n requests from clients concurrent goroutines (keep-alive
// connections) to url and measures them. mk builds each request.
func load(b *testing.B, client *http.Client, n, clients int, mk func(i int) *http.Request) loadResult {
	return pacedLoad(b, client, n, clients, 0, mk)
}

// pacedLoad is load with each client sending at most one request per
// interval (0: as fast as answers come back).
func pacedLoad(b *testing.B, client *http.Client, n, clients int, interval time.Duration, mk func(i int) *http.Request) loadResult {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tick <-chan time.Time
			if interval > 0 {
				t := time.NewTicker(interval)
				defer t.Stop()
				tick = t.C
			}
			for {
				if tick != nil {
					<-tick
				}
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req := mk(i)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return loadResult{rps: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100]}
}

func loadClient(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
}

// BenchmarkHTTPAuthzLoad: the authorization endpoint against a handler that
// answers a constant 200 with the same headers, over real loopback TCP, 50
// concurrent keep-alive clients, each b.N iteration one round of 4000
// requests to each, alternating which goes first. Requests come as nginx
// sends them (X-Original-URI over the five HTTP protocols, Basic bob,
// X-Forwarded-For from a trusted peer); every decision is logged as text to
// io.Discard. Reported: both throughputs, authz/constant (the target is
// ≥ 0.8), and the authz p99 (target ≤ 2 ms).
//
//	go test -run '^$' -bench HTTPAuthzLoad -benchtime 5x ./enforce
func BenchmarkHTTPAuthzLoad(b *testing.B) {
	const clients, n = 50, 4000
	proxies, _ := ParseTrustedProxies("127.0.0.1")
	authz := &HTTPAuthz{
		Decider: &Decider{Source: exampleFileSource(b), Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Proxies: proxies,
	}
	constant := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Wmpolicy-User"] = []string{"S-1-1-11-1234567890-1234567890-1234567890-1002"}
		w.Header()["Cache-Control"] = noStore
		w.Header()["Content-Length"] = zeroLength
		w.WriteHeader(200)
	})
	authzSrv, constSrv := httptest.NewServer(authz), httptest.NewServer(constant)
	defer authzSrv.Close()
	defer constSrv.Close()
	paths := []string{"/EWS/Exchange.asmx", "/Microsoft-Server-ActiveSync?Cmd=Sync", "/autodiscover/autodiscover.xml", "/mapi/emsmdb/", "/owa/"}
	auth := basic("bob")
	mk := func(base string) func(int) *http.Request {
		return func(i int) *http.Request {
			r, _ := http.NewRequest("GET", base+"/", nil)
			r.Header["X-Original-Uri"] = []string{paths[i%len(paths)]}
			r.Header["X-Original-Method"] = []string{"POST"}
			r.Header["Authorization"] = []string{auth}
			r.Header["X-Forwarded-For"] = []string{"127.0.1.5"}
			return r
		}
	}
	ac, cc := loadClient(clients), loadClient(clients)
	// Warm both: connections, the snapshot, the pools.
	load(b, ac, 500, clients, mk(authzSrv.URL))
	load(b, cc, 500, clients, mk(constSrv.URL))
	var a, c loadResult
	var ratios []float64
	var p99s []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			a = load(b, ac, n, clients, mk(authzSrv.URL))
			c = load(b, cc, n, clients, mk(constSrv.URL))
		} else {
			c = load(b, cc, n, clients, mk(constSrv.URL))
			a = load(b, ac, n, clients, mk(authzSrv.URL))
		}
		ratios = append(ratios, a.rps/c.rps)
		p99s = append(p99s, a.p99)
		b.Logf("round %d: authz %.0f req/s p50 %v p99 %v; constant %.0f req/s p50 %v p99 %v; ratio %.3f",
			i, a.rps, a.p50, a.p99, c.rps, c.p50, c.p99, a.rps/c.rps)
	}
	b.StopTimer()
	// Latency at a steady 2500 requests per second (50 clients, one request
	// every 20 ms each), not at saturation: where a closed loop of 50 clients
	// queues, latency is 50 / throughput whatever the handler.
	pa := pacedLoad(b, ac, 5000, clients, 20*time.Millisecond, mk(authzSrv.URL))
	pc := pacedLoad(b, cc, 5000, clients, 20*time.Millisecond, mk(constSrv.URL))
	b.Logf("paced 2500 req/s: authz p50 %v p99 %v; constant p50 %v p99 %v", pa.p50, pa.p99, pc.p50, pc.p99)
	b.ReportMetric(float64(pa.p99.Microseconds()), "paced-p99-µs")
	b.ReportMetric(float64(pc.p99.Microseconds()), "paced-const-p99-µs")
	slices.Sort(ratios)
	slices.Sort(p99s)
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(ratios[0], "min-ratio")
	b.ReportMetric(float64(p99s[len(p99s)/2].Microseconds()), "median-p99-µs")
	b.ReportMetric(float64(p99s[len(p99s)-1].Microseconds()), "max-p99-µs")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEWSProxyLatency: what the EWS proxy adds to one impersonated
// FindItem (token verification, SOAP header parsing, the B9 decision, the
// extra loopback hop) over calling the upstream directly, one client,
// interleaved: each b.N iteration is one direct and one proxied request.
// Reported: both medians, their difference (the target is ≤ 200 µs), and the
// allocations of the whole process (client, proxy, upstream) per request for
// each path, and their difference.
//
//	go test -run '^$' -bench EWSProxyLatency -benchtime 4000x ./enforce
func BenchmarkEWSProxyLatency(b *testing.B) {
	f := newEWSFixture(b, 0)
	proxySrv := httptest.NewServer(f.proxy)
	defer proxySrv.Close()
	find := readEWS(b, "finditem.xml")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	// The proxy sees the client as 127.0.0.1; let the archiver's rule
	// allow it by using the FULL_ACCESS migrator.
	tok := bearer(f.tokMigrator)
	send := func(base string) time.Duration {
		req, _ := http.NewRequest("POST", base+"/EWS/Exchange.asmx", bytes.NewReader(find))
		req.Header["Authorization"] = []string{tok}
		req.Header["Content-Type"] = []string{"text/xml; charset=utf-8"}
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return d
	}
	up := f.upstream.URL
	_ = must(url.Parse(up))
	for range 200 {
		send(up)
		send(proxySrv.URL)
	}
	var direct, proxied []time.Duration
	var ms runtime.MemStats
	var directAllocs, proxiedAllocs uint64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		direct = append(direct, send(up))
		runtime.ReadMemStats(&ms)
		m1 := ms.Mallocs
		proxied = append(proxied, send(proxySrv.URL))
		runtime.ReadMemStats(&ms)
		directAllocs += m1 - m0
		proxiedAllocs += ms.Mallocs - m1
	}
	b.StopTimer()
	slices.Sort(direct)
	slices.Sort(proxied)
	md, mp := direct[len(direct)/2], proxied[len(proxied)/2]
	b.ReportMetric(float64(md.Microseconds()), "direct-median-µs")
	b.ReportMetric(float64(mp.Microseconds()), "proxied-median-µs")
	b.ReportMetric(float64((mp - md).Microseconds()), "added-median-µs")
	b.ReportMetric(float64(directAllocs)/float64(b.N), "direct-allocs/req")
	b.ReportMetric(float64(proxiedAllocs)/float64(b.N), "proxied-allocs/req")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkEWSProxyDecide: the proxy's own work on one impersonated FindItem,
// in process, without the network: read the prefix, parse the SOAP header,
// verify the token and decide B9 (the upstream is a handler that discards).
func BenchmarkEWSProxyDecide(b *testing.B) {
	f := newEWSFixture(b, 0)
	p, err := NewEWSProxy(EWSProxyOptions{
		Upstream:    must(url.Parse(f.upstream.URL)),
		Authorizers: f.proxy.opts.Authorizers,
		HTTP:        f.proxy.opts.HTTP,
		Transport:   discardTransport{},
		Log:         quietLog(),
	})
	if err != nil {
		b.Fatal(err)
	}
	find := readEWS(b, "finditem.xml")
	tok := bearer(f.tokMigrator)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := httptest.NewRequest("POST", "/EWS/Exchange.asmx", bytes.NewReader(find))
		r.Header["Authorization"] = []string{tok}
		r.RemoteAddr = "127.0.1.5:5000"
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// discardTransport answers every request 200 after reading its body.
type discardTransport struct{}

func (discardTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// BenchmarkHTTPAuthzHandler: one authorization request through ServeHTTP in
// process (no network), against the constant handler, to show what the
// decision itself costs per request.
func BenchmarkHTTPAuthzHandler(b *testing.B) {
	proxies, _ := ParseTrustedProxies("127.0.0.1")
	authz := &HTTPAuthz{
		Decider: &Decider{Source: exampleFileSource(b), Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		Proxies: proxies,
	}
	constant := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = noStore
		w.Header()["Content-Length"] = zeroLength
		w.WriteHeader(200)
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header["X-Original-Uri"] = []string{"/EWS/Exchange.asmx"}
	r.Header["Authorization"] = []string{basic("bob")}
	r.Header["X-Forwarded-For"] = []string{"127.0.1.5"}
	r.RemoteAddr = "127.0.0.1:5000"
	w := &nopWriter{h: http.Header{}}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"constant", constant}, {"authz", authz}, {"authz-nolog", &HTTPAuthz{Decider: &Decider{Source: authz.Decider.Source, Log: slog.New(slog.DiscardHandler)}, Proxies: proxies}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				clear(w.h)
				bc.h.ServeHTTP(w, r)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
