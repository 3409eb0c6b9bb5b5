package enforce

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The load benchmarks measure each enforcement point over loopback with
// loadClients concurrent clients, each on its own kept-alive connection, in
// two modes measured in the same run and interleaved in rounds (so that a
// noisy machine hurts both alike):
//
//	rules     the real point: Decider over the example organization, every
//	          decision logged as JSON (to io.Discard)
//	constant  the same listener, protocol and client, answering a constant
//	          allow without a Decider
//
// Reported: rules-dec/s and constant-dec/s with clients back to back
// (saturated), ratio (the median of ten alternating rounds' rules/constant
// ratios; the issue asks ≥ 0.8: the rules must cost nothing next to the
// protocol), the rules mode's p99 latency saturated (p99-sat-ms: with 50
// clients on a shared 2-core machine this is queueing, not work) and at a
// paced 5000 decisions/s (p99-5k/s-ms; the issue asks ≤ 2 ms), next to the
// constant mode's paced p99 (const-p99-5k/s-ms) as the floor the protocol and
// the machine set. Run with
//
//	go test -run '^$' -bench Load -benchtime 20000x ./enforce
const loadClients = 50

// loadTarget is one enforcement point under load: serve starts its listener
// (with the given decide function) and returns a client factory; each client
// sends request i and checks the answer.
type loadTarget struct {
	name  string
	serve func(b *testing.B, decide decideFunc) (newClient func() func(i int) error, stop func())
}

func constantAllow(_ context.Context, _ Question, a *Answer) { a.Allow, a.Outcome = true, Allowed }

func loadDecider(b *testing.B) *Decider {
	src, _, _ := exampleSource(b, nil)
	return &Decider{Source: src, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

// The questions cycle through an allowed login, a denied one and an unknown
// user, so that every path of Decide is in the mix.
var loadLogins = []struct{ login, ip string }{
	{"bob", "192.0.2.10"},
	{"bob@example.com", "203.0.113.7"},
	{"mallory", "192.0.2.10"},
	{"alice", "10.8.3.4"},
}

func serveHTTP(b *testing.B, h http.Handler) (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ErrorLog: nil}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }
}

func httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}}
}

var loadTargets = []loadTarget{
	{"dovecot", func(b *testing.B, decide decideFunc) (func() func(int) error, func()) {
		h, err := NewDovecotPolicy(loadDecider(b), DovecotOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if decide != nil {
			h.decide = decide
		}
		addr, stop := serveHTTP(b, h)
		url := "http://" + addr + "/?command=allow"
		bodies := make([]string, len(loadLogins))
		for i, l := range loadLogins {
			bodies[i] = `{"device_id":"","login":"` + l.login + `","protocol":"imap","pwhash":"8a3f1c2d4e5b","remote":"` + l.ip + `","session_id":"x/OtwAJi4Jt/AAAB"}`
		}
		return func() func(int) error {
			c := httpClient()
			return func(i int) error {
				resp, err := c.Post(url, "application/json", strings.NewReader(bodies[i%len(bodies)]))
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return err
			}
		}, stop
	}},
	{"nginx-mail", func(b *testing.B, decide decideFunc) (func() func(int) error, func()) {
		h, err := NewNginxMail(loadDecider(b), NginxMailOptions{IMAPBackend: imapBackend})
		if err != nil {
			b.Fatal(err)
		}
		if decide != nil {
			h.decide = decide
		}
		addr, stop := serveHTTP(b, h)
		url := "http://" + addr + "/"
		return func() func(int) error {
			c := httpClient()
			return func(i int) error {
				l := loadLogins[i%len(loadLogins)]
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header = http.Header{"Auth-Method": {"plain"}, "Auth-User": {l.login}, "Auth-Pass": {"secret"},
					"Auth-Protocol": {"imap"}, "Auth-Login-Attempt": {"1"}, "Client-Ip": {l.ip}, "Client-Host": {"[UNAVAILABLE]"}}
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return err
			}
		}, stop
	}},
	{"postfix", func(b *testing.B, decide decideFunc) (func() func(int) error, func()) {
		p, err := NewPostfixPolicy(loadDecider(b), PostfixOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if decide != nil {
			p.decide = decide
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Add(1)
				go func() { defer wg.Done(); p.ServeConn(ctx, c) }()
			}
		}()
		reqs := make([]string, len(loadLogins))
		for i, l := range loadLogins {
			reqs[i] = "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=" + l.ip +
				"\nclient_name=client.example\nhelo_name=client.example\nsender=a@example.com\nrecipient=b@example.org\nsasl_method=PLAIN\nsasl_username=" + l.login + "\nsize=0\n\n"
		}
		var conns []net.Conn
		var mu sync.Mutex
		stop := func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			cancel()
			wg.Wait()
		}
		return func() func(int) error {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			br := bufio.NewReader(c)
			return func(i int) error {
				if _, err := io.WriteString(c, reqs[i%len(reqs)]); err != nil {
					return err
				}
				_, err := readAnswer(br)
				return err
			}
		}, stop
	}},
}

// loadRun sends n requests from loadClients clients and returns the rate
// and every request's latency. With pace > 0 each client sends one request
// per pace (an open load below saturation) instead of back to back.
func loadRun(b *testing.B, clients []func(int) error, n int, pace time.Duration) (perSec float64, lat []time.Duration) {
	var wg sync.WaitGroup
	lats := make([][]time.Duration, len(clients))
	errs := make(chan error, len(clients))
	start := time.Now()
	for ci, send := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := n / len(clients)
			if ci < n%len(clients) {
				mine++
			}
			l := make([]time.Duration, 0, mine)
			next := time.Now().Add(time.Duration(ci) * pace / time.Duration(len(clients)))
			for j := range mine {
				if pace > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(pace)
				}
				t0 := time.Now()
				if err := send(ci + j*len(clients)); err != nil {
					errs <- err
					return
				}
				l = append(l, time.Since(t0))
			}
			lats[ci] = l
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	for _, l := range lats {
		lat = append(lat, l...)
	}
	return float64(n) / elapsed.Seconds(), lat
}

func BenchmarkLoad(b *testing.B) {
	for _, target := range loadTargets {
		b.Run(target.name, func(b *testing.B) {
			newRules, stopRules := target.serve(b, nil)
			defer stopRules()
			newConst, stopConst := target.serve(b, constantAllow)
			defer stopConst()
			rules := make([]func(int) error, loadClients)
			constant := make([]func(int) error, loadClients)
			for i := range loadClients {
				rules[i], constant[i] = newRules(), newConst()
			}
			// Warm up: connections, handler pools.
			loadRun(b, rules, 4*loadClients, 0)
			loadRun(b, constant, 4*loadClients, 0)
			b.ResetTimer()
			// Saturated: clients back to back, the two modes alternating in
			// rounds; the ratio is the median of the rounds' ratios.
			const rounds = 10
			var rulesRate, constRate float64
			var ratios []float64
			var satLat []time.Duration
			for r := range rounds {
				n := max(b.N/rounds, loadClients)
				var rr, cr float64
				var l []time.Duration
				if r%2 == 0 {
					rr, l = loadRun(b, rules, n, 0)
					cr, _ = loadRun(b, constant, n, 0)
				} else {
					cr, _ = loadRun(b, constant, n, 0)
					rr, l = loadRun(b, rules, n, 0)
				}
				rulesRate += rr / rounds
				constRate += cr / rounds
				ratios = append(ratios, rr/cr)
				satLat = append(satLat, l...)
			}
			// Paced: every client sends one request per 10ms (5000
			// decisions/s in all), the latency a server sees below saturation.
			// The constant mode paced alike shows what the protocol and the
			// machine alone cost.
			_, paced := loadRun(b, rules, 10*loadClients, 10*time.Millisecond)
			_, pacedConst := loadRun(b, constant, 10*loadClients, 10*time.Millisecond)
			b.StopTimer()
			slices.Sort(ratios)
			b.ReportMetric(rulesRate, "rules-dec/s")
			b.ReportMetric(constRate, "constant-dec/s")
			b.ReportMetric((ratios[rounds/2-1]+ratios[rounds/2])/2, "ratio")
			b.ReportMetric(p99(satLat), "p99-sat-ms")
			b.ReportMetric(p99(paced), "p99-5k/s-ms")
			b.ReportMetric(p99(pacedConst), "const-p99-5k/s-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func p99(lat []time.Duration) float64 {
	slices.Sort(lat)
	return float64(lat[len(lat)*99/100]) / float64(time.Millisecond)
}
