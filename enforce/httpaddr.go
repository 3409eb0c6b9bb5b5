package enforce

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// MaxTrustedProxies bounds a TrustedProxies list.
const MaxTrustedProxies = 256

// maxForwardedFor bounds the X-Forwarded-For text looked at (all its header
// lines together): a longer chain is refused, not truncated.
const maxForwardedFor = 4 << 10

// TrustedProxies are the proxies whose X-Forwarded-For an HTTP enforcement
// point believes (SEMANTICS E7). The zero TrustedProxies trusts no proxy: the
// client is always the TCP peer. It is immutable and safe for concurrent use.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies reads comma-separated CIDR prefixes or addresses
// ("127.0.0.1/32,10.0.0.0/8,::1"); an address alone is a /32 (or /128).
// IPv4 and IPv6 are both accepted (a proxy may reach wmpolicy over IPv6); an
// IPv4-mapped prefix is refused (write it as IPv4). The empty string trusts
// no proxy. At most MaxTrustedProxies entries.
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var t TrustedProxies
	if strings.TrimSpace(s) == "" {
		return t, nil
	}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		var p netip.Prefix
		var err error
		if strings.Contains(item, "/") {
			p, err = netip.ParsePrefix(item)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(item)
			if err == nil && a.Zone() != "" {
				err = errors.New("no zones")
			}
			if err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		switch {
		case err != nil:
			return TrustedProxies{}, fmt.Errorf("trusted proxy %d %q: %v", i, item, err)
		case p.Addr().Is4In6():
			return TrustedProxies{}, fmt.Errorf("trusted proxy %d %q: write an IPv4-mapped address as IPv4", i, item)
		case p.Addr().Zone() != "":
			return TrustedProxies{}, fmt.Errorf("trusted proxy %d %q: no zones", i, item)
		case len(t.prefixes) == MaxTrustedProxies:
			return TrustedProxies{}, fmt.Errorf("trusted proxies: more than %d", MaxTrustedProxies)
		}
		t.prefixes = append(t.prefixes, p.Masked())
	}
	return t, nil
}

// String returns the list as ParseTrustedProxies reads it.
func (t TrustedProxies) String() string {
	s := make([]string, len(t.prefixes))
	for i, p := range t.prefixes {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Trusted reports whether a (unmapped) is a trusted proxy.
func (t TrustedProxies) Trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Errors of ClientAddr. Each is a refusal: an enforcement point that cannot
// tell who the client is denies (E3).
var (
	// ErrBadPeer: the TCP peer's address (http.Request.RemoteAddr) does not parse.
	ErrBadPeer = errors.New("enforce: the peer address does not parse")
	// ErrBadForwardedFor: an X-Forwarded-For entry looked at does not parse, or
	// the header is longer than 4 KiB.
	ErrBadForwardedFor = errors.New("enforce: malformed X-Forwarded-For")
	// ErrNoClient: the peer is a trusted proxy and X-Forwarded-For names no
	// address that is not itself a trusted proxy.
	ErrNoClient = errors.New("enforce: a trusted proxy forwarded no client address")
)

// ClientAddr returns the client's address of a request (SEMANTICS E7): the
// TCP peer (remoteAddr, "ip:port" as http.Request.RemoteAddr holds it) or,
// only when the peer is a trusted proxy, the rightmost address of
// X-Forwarded-For (xff: the header's lines, in order, as
// http.Header.Values returns them) that is not itself a trusted proxy.
// Entries to the left of it are never read (a client can write anything
// there). An IPv4-mapped address is unmapped. It does not allocate.
func (t TrustedProxies) ClientAddr(remoteAddr string, xff []string) (netip.Addr, error) {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Addr{}, ErrBadPeer
	}
	peer := ap.Addr().Unmap()
	if len(t.prefixes) == 0 || !t.Trusted(peer) {
		return peer, nil
	}
	n := 0
	for _, line := range xff {
		n += len(line)
	}
	if n > maxForwardedFor {
		return netip.Addr{}, ErrBadForwardedFor
	}
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			var item string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				item, line = line[j+1:], line[:j]
			} else {
				item, line = line, ""
			}
			item = strings.TrimSpace(item)
			if item == "" {
				continue // "a, ,b" and a trailing comma: nginx writes neither, but they name no one
			}
			a, err := parseForwarded(item)
			if err != nil {
				return netip.Addr{}, ErrBadForwardedFor
			}
			if !t.Trusted(a) {
				return a, nil
			}
		}
	}
	return netip.Addr{}, ErrNoClient
}

// parseForwarded reads one X-Forwarded-For entry: an address, or an address
// with a port ("192.0.2.1:4711", "[2001:db8::1]:4711"), which some proxies
// write.
func parseForwarded(s string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, ErrBadForwardedFor
		}
		return a.Unmap(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Addr().Zone() != "" {
		return netip.Addr{}, ErrBadForwardedFor
	}
	return ap.Addr().Unmap(), nil
}
