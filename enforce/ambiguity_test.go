package enforce

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// SEMANTICS E7, E8: a request with two Authorization headers is refused.
// Deciding on the first (Basic, a user the rules allow) while the server
// behind reads another (a Bearer token that no one checked) would let an
// impersonation through without its B9 decision, and two user headers are
// as ambiguous.
func TestSemanticsE7_TwoAuthorizationHeadersRefused(t *testing.T) {
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}, UserHeader: "X-Remote-User"}
	for _, tc := range []struct {
		name string
		hdr  map[string][]string
		want int
	}{
		{"control: bob Basic", map[string][]string{"Authorization": {basic("bob")}}, 200},
		{"Basic then Bearer", map[string][]string{"Authorization": {basic("bob"), "Bearer v1.x.y"}}, 403},
		{"Basic twice", map[string][]string{"Authorization": {basic("bob"), basic("carol")}}, 403},
		{"control: user header", map[string][]string{"X-Remote-User": {"bob"}}, 200},
		{"two user headers", map[string][]string{"X-Remote-User": {"bob", "carol"}}, 403},
	} {
		r := httptest.NewRequest("GET", "/EWS/Exchange.asmx", nil)
		r.RemoteAddr = "127.0.1.5:40000"
		for k, vs := range tc.hdr {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
		}
	}
}

// SEMANTICS E8: the EWS proxy never forwards a request with two
// Authorization headers, whatever their order.
func TestSemanticsE8_EWSProxyTwoAuthorizationHeaders(t *testing.T) {
	f := newEWSFixture(t, 0)
	find := readEWS(t, "finditem.xml")
	for _, auths := range [][]string{
		{basic("bob"), bearer(f.tokMigrator)},
		{bearer(f.tokMigrator), basic("bob")},
		{basic("bob"), basic("bob")},
	} {
		r := httptest.NewRequest("POST", "/EWS/Exchange.asmx", bytes.NewReader(find))
		r.Header.Set("Content-Type", "text/xml; charset=utf-8")
		for _, a := range auths {
			r.Header.Add("Authorization", a)
		}
		r.RemoteAddr = "127.0.1.5:50000"
		w := httptest.NewRecorder()
		f.proxy.ServeHTTP(w, r)
		f.mu.Lock()
		n := len(f.seen)
		f.mu.Unlock()
		if w.Code != 403 || n != 0 {
			t.Errorf("%q: status %d, upstream called %d times; want 403 and never", auths, w.Code, n)
		}
	}
}

// SEMANTICS E8, E7: a Bearer request whose path is EWS only because '\' is
// read as '/' is not deferred. nginx's location (and Envoy's route) does not
// read '\' as '/', so it would send the request to the mail server, past the
// EWS proxy that the deferral counts on.
func TestSemanticsE8_DeferEWSBearerBackslash(t *testing.T) {
	h := &HTTPAuthz{Decider: &Decider{Source: exampleFileSource(t), Log: quietLog()}, DeferEWSBearer: true, Front: FrontNginx}
	for _, tc := range []struct {
		uri  string
		want int
	}{
		{"/EWS/Exchange.asmx", 200},
		{`/owa\..\EWS\Exchange.asmx`, 403},
		{`/owa%5c..%5cEWS%5CExchange.asmx`, 403},
		{`/EWS\Exchange.asmx`, 403},
		{`/EWS/Exchange.asmx?x=\`, 200},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "127.0.1.5:40000"
		r.Header.Set("X-Original-Uri", tc.uri)
		r.Header.Set("X-Original-Method", "POST")
		r.Header.Set("Authorization", "Bearer v1.x.y")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.uri, w.Code, tc.want)
		}
	}
	// Basic credentials on such a path are decided as the mail server
	// routes it (EWS), as before.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.1.5:40000"
	r.Header.Set("X-Original-Uri", `/owa\..\EWS\Exchange.asmx`)
	r.Header.Set("Authorization", basic("carol"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 403 {
		t.Errorf("carol (WebMail only) on a backslash EWS path: status %d, want 403", w.Code)
	}
}

// SEMANTICS E8, D5: a Bearer request whose SOAP header is withheld is
// refused once SOAPHeaderTimeout has passed, instead of holding the
// connection for as long as the client likes (the EWS proxy's listener has
// no read timeout: allowed bodies stream).
func TestSemanticsE8_EWSProxySOAPHeaderTimeout(t *testing.T) {
	f := newEWSFixture(t, 0)
	opts := f.proxy.opts
	opts.SOAPHeaderTimeout = 200 * time.Millisecond
	p, err := NewEWSProxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail\r\nAuthorization: Bearer %s\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n%s<s:Header>", f.tokMigrator, envOpen)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer while the SOAP header was withheld: %v", err)
	}
	resp.Body.Close()
	f.mu.Lock()
	n := len(f.seen)
	f.mu.Unlock()
	if resp.StatusCode != http.StatusBadRequest || n != 0 {
		t.Errorf("status %d, upstream called %d times; want 400 and never", resp.StatusCode, n)
	}

	// A refusal decided from a SOAP header read whole (here READ_ONLY
	// CreateItem, the read limit reached) is answered at once, though the
	// rest of the body is withheld, and so is a refusal without a token.
	create := readEWS(t, "createitem.xml")
	opts.MaxSOAPHeader, opts.SOAPHeaderTimeout = len(create), time.Minute
	p2, err := NewEWSProxy(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewServer(p2)
	defer srv2.Close()
	for _, auth := range []string{"Bearer " + f.tokArchiver, basic("carol")} {
		c, err := net.Dial("tcp", srv2.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail\r\nAuthorization: %s\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", auth, len(create)+5000, create)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%.10s: no answer to a refused request whose body is withheld: %v", auth, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%.10s: status %d, want 403", auth, resp.StatusCode)
		}
	}
}
