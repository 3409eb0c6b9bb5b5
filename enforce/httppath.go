package enforce

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
)

// MaxPathPrefixes bounds a PathActions table.
const MaxPathPrefixes = 64

// maxURILen bounds the request URI an HTTP enforcement point looks at; a
// longer one is refused (nginx's own default header buffer is 1 KiB, and its
// large buffers 8 KiB).
const maxURILen = 8 << 10

// PathActions maps an HTTP request path to the WorkMail action it is decided
// as (SEMANTICS E7). A path selects the action of the first prefix in the
// table that matches it, else the fallback action. Matching is
// case-insensitive and by whole path segments: the prefix "/EWS/" (or "/EWS")
// matches "/ews", "/EWS/Exchange.asmx" and "/Ews/x", never "/EWSX".
//
// The zero PathActions maps every path to no action, which the Decider denies
// (E2); use DefaultPathActions or ParsePathActions. A PathActions is immutable
// and safe for concurrent use. Action costs one pass over the table's
// prefixes and does not allocate.
type PathActions struct {
	prefixes []pathPrefix
	fallback accessctl.Action
}

type pathPrefix struct {
	prefix string // lower case, leading '/', no trailing '/'
	action accessctl.Action
}

// DefaultPathActions returns E7's table: /EWS/ → EWS,
// /Microsoft-Server-ActiveSync → ActiveSync, /autodiscover/ → AutoDiscover,
// /mapi/, /rpc/ and /oab/ → WindowsOutlook, anything else → WebMail.
func DefaultPathActions() PathActions {
	p, err := ParsePathActions(DefaultPathActionsText)
	if err != nil {
		panic("enforce: DefaultPathActionsText does not parse: " + err.Error())
	}
	return p
}

// DefaultPathActionsText is DefaultPathActions in the syntax of
// ParsePathActions.
const DefaultPathActionsText = "/EWS/=EWS,/Microsoft-Server-ActiveSync=ActiveSync,/autodiscover/=AutoDiscover," +
	"/mapi/=WindowsOutlook,/rpc/=WindowsOutlook,/oab/=WindowsOutlook,*=WebMail"

// ParsePathActions reads a table written as comma-separated PREFIX=Action
// pairs, in the order they are tried, and at most one *=Action for the paths
// no prefix matches ("/EWS/=EWS,/owa/=WebMail,*=WebMail"). Without a *=
// entry, unmatched paths have no action and are denied. Actions are the
// WorkMail actions, spelled exactly (A11: "Ews" is an error with a hint).
// A prefix starts with '/', is at most 256 bytes, and holds no '%', '?', '#',
// '\', '.' segment or space; a prefix given twice (in any case) is an error.
// At most MaxPathPrefixes prefixes.
func ParsePathActions(s string) (PathActions, error) {
	var p PathActions
	if strings.TrimSpace(s) == "" {
		return p, errors.New("path table: empty")
	}
	seen := map[string]bool{}
	fallback := false
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		pre, act, ok := strings.Cut(item, "=")
		if !ok {
			return PathActions{}, fmt.Errorf("path table item %d %q: want PREFIX=Action", i, item)
		}
		a, err := accessctl.ParseAction(act)
		if err != nil {
			return PathActions{}, fmt.Errorf("path table item %d %q: %v", i, item, err)
		}
		if pre == "*" {
			if fallback {
				return PathActions{}, fmt.Errorf("path table item %d %q: a second *=", i, item)
			}
			fallback, p.fallback = true, a
			continue
		}
		if err := checkPrefix(pre); err != nil {
			return PathActions{}, fmt.Errorf("path table item %d %q: %v", i, item, err)
		}
		key := strings.TrimSuffix(strings.ToLower(pre), "/")
		if key == "" {
			return PathActions{}, fmt.Errorf("path table item %d %q: the prefix / matches everything: use *=Action", i, item)
		}
		if seen[key] {
			return PathActions{}, fmt.Errorf("path table item %d %q: prefix given twice", i, item)
		}
		seen[key] = true
		if len(p.prefixes) == MaxPathPrefixes {
			return PathActions{}, fmt.Errorf("path table: more than %d prefixes", MaxPathPrefixes)
		}
		p.prefixes = append(p.prefixes, pathPrefix{key, a})
	}
	return p, nil
}

func checkPrefix(pre string) error {
	switch {
	case pre == "" || pre[0] != '/':
		return errors.New("a prefix starts with /")
	case len(pre) > 256:
		return errors.New("a prefix is at most 256 bytes")
	case strings.ContainsAny(pre, "%?#\\ \t"):
		return errors.New(`a prefix holds no %, ?, #, \ or space`)
	case strings.Contains(pre, "//"):
		return errors.New("a prefix holds no empty segment")
	}
	for _, seg := range strings.Split(pre, "/") {
		if seg == "." || seg == ".." {
			return errors.New("a prefix holds no . or .. segment")
		}
	}
	return nil
}

// String returns the table in the syntax of ParsePathActions (prefixes in
// lower case).
func (p PathActions) String() string {
	var b strings.Builder
	for i, e := range p.prefixes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(e.prefix + "=" + e.action.String())
	}
	if p.fallback != 0 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString("*=" + p.fallback.String())
	}
	return b.String()
}

// Action returns the action of a clean path (one CleanPath returned).
func (p PathActions) Action(clean string) accessctl.Action {
	for _, e := range p.prefixes {
		n := len(e.prefix)
		if len(clean) >= n && strings.EqualFold(clean[:n], e.prefix) && (len(clean) == n || clean[n] == '/') {
			return e.action
		}
	}
	return p.fallback
}

// ErrBadPath is the error of CleanPath for a request URI that no server would
// route the same way as its text reads.
var ErrBadPath = errors.New("enforce: malformed request path")

// CleanPath returns the path of a request URI (origin form "/a/b?q", or the
// absolute form "http://host/a/b") as the server behind the proxy will route
// it: the query and fragment dropped, percent-escapes decoded, '\' read as '/'
// (as IIS does), and empty, "." and ".." segments resolved (path.Clean). So
// "/owa/..%2fEWS/Exchange.asmx" is "/EWS/Exchange.asmx", and is decided as EWS.
// A URI longer than 8 KiB, not starting with '/' (after the scheme and host),
// with a bad escape, or with a NUL or control character is ErrBadPath. It
// allocates only when the path needs decoding or cleaning.
func CleanPath(uri string) (string, error) {
	if len(uri) > maxURILen {
		return "", ErrBadPath
	}
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		uri = uri[:i]
	}
	if !strings.HasPrefix(uri, "/") {
		// Absolute form: scheme://authority/path.
		_, rest, ok := strings.Cut(uri, "://")
		if !ok || strings.ContainsAny(uri[:len(uri)-len(rest)-3], "/") {
			return "", ErrBadPath
		}
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return "/", nil
		}
		uri = rest[i:]
	}
	if strings.IndexByte(uri, '%') >= 0 {
		u, err := url.PathUnescape(uri)
		if err != nil {
			return "", ErrBadPath
		}
		uri = u
	}
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c < 0x20 || c == 0x7f {
			return "", ErrBadPath
		}
	}
	if strings.IndexByte(uri, '\\') >= 0 {
		uri = strings.ReplaceAll(uri, `\`, "/")
	}
	if needsClean(uri) {
		uri = path.Clean(uri)
	}
	return uri, nil
}

// needsClean reports whether path.Clean would change p (an absolute path):
// an empty, "." or ".." segment.
func needsClean(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		rest := p[i+1:]
		switch {
		case rest == "" && i > 0, strings.HasPrefix(rest, "/"),
			rest == ".", strings.HasPrefix(rest, "./"),
			rest == "..", strings.HasPrefix(rest, "../"):
			return true
		}
	}
	return false
}
