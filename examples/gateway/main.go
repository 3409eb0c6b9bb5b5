// Command gateway shows how a mail gateway puts wmpolicy in front of IMAP and
// SMTP: a TCP front end on loopback that asks the organization's access-control
// rules about every login on every connection, logs which rules decided, and
// reloads the rules file when it changes, without stopping and without ever
// answering a login with half of a change.
//
// From the repository's root:
//
//	go run ./examples/gateway -rules examples/org/rules.json -users examples/org/users.json \
//	    -imap 127.0.0.1:1143 -smtp 127.0.0.1:1587 -as-client 203.0.113.9 &
//	curl -v imap://127.0.0.1:1143 -u bob:secret        # NO [AUTHORIZATIONFAILED] …, curl: (67) Login denied
//
// The example rules allow IMAP and SMTP from the office (192.0.2.0/24) and the
// VPN (10.8.0.0/16) only; -as-client makes every connection come from
// 203.0.113.9, outside both. The log names the rule that decided:
//
//	level=WARN msg=login conn=1 proto=IMAP client=203.0.113.9 login=bob user=S-1-1-11-…-1002
//	  effect=DENY step="access control" reason="explicit deny" matched_rules=[legacy-protocols-office-only] version=1
//
// With -as-client 192.0.2.44 the same curl logs in (and exits 0). Without
// -imap and -smtp the ports are chosen by the system and printed
// ("IMAP listening on 127.0.0.1:41234"); "-smtp off" turns a protocol off.
//
// A gateway behind a load balancer learns the client's address from a PROXY
// protocol v1 header; with -proxy every connection must start with one, which
// is also how to try several addresses against one running gateway:
//
//	$ exec 3<>/dev/tcp/127.0.0.1/1143
//	$ printf 'PROXY TCP4 192.0.2.44 127.0.0.1 50000 143\r\na1 LOGIN bob@example.com secret\r\na2 LOGOUT\r\n' >&3; cat <&3
//	* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] wmpolicy gateway example ready
//	a1 OK LOGIN completed: welcome (this example stops here)
//	* BYE logging out
//	a2 OK LOGOUT completed
//
// SMTP works the same way with EHLO and AUTH PLAIN <base64 of "\0user\0password">
// (curl smtp://… -u user:password --mail-from … --mail-rcpt … shows it).
//
// # What each login goes through
//
//  1. The client's address: the TCP peer's, or with -proxy the source address of
//     the PROXY header (trusted from a loopback peer only: the proxy runs on this
//     host), or the fixed address of -as-client. IPv6 clients are denied: the
//     rules speak IPv4 only (SEMANTICS A10), and the log says so.
//  2. The login name is resolved through the directory of -users: a user ID,
//     email address or user name, case-insensitively (SEMANTICS A18). An unknown
//     name, a disabled user or an empty password fails; the client cannot tell
//     which (no user enumeration). Passwords are not checked: authentication is
//     not what this example is about (Config.Authenticate is where a real
//     gateway checks them). There is no TLS either: never send real passwords.
//  3. The access-control rules are asked with the action of the protocol (IMAP
//     or SMTP), the address and the resolved user ID, through the
//     allocation-free Policy.Evaluate with a slice reused by the connection.
//     ALLOW logs in; DENY answers NO (IMAP) or 535 (SMTP) with the reason
//     (explicit or implicit deny). The deciding rules (MatchedRules) go to the
//     log, not to the client.
//
// # Hot reload
//
// Both files are polled every -poll (size, modification time and, while the
// file is recent, a SHA-256 of its contents; no file-system notification
// library is needed). When either changes, both are decoded and compiled
// again; the new policy and its directory are published together with one
// atomic pointer store, so a login sees either the old pair or the new one.
// When the new contents are invalid, the rules in force stay, and every problem
// is logged with its file, AWS error code and field path, e.g.
//
//	level=ERROR msg="reload rejected: keeping the rules in force" version=1 file=rules.json
//	  code=ValidationException path=Rules[2].IpRanges[0] problem="…"
//
// Replace the file atomically (write a temporary file and rename it) so that a
// half-written file is never read; one that is read is rejected like any other
// invalid file, and picked up once complete. SIGHUP checks the files at once.
// SIGINT and SIGTERM stop accepting, tell connected clients goodbye
// ("* BYE", "421") and exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/policy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(1)
	}
}

// defaultFile returns examples/org/name, or ../org/name when run from the
// example's own folder.
func defaultFile(name string) string {
	p := filepath.Join("examples", "org", name)
	if _, err := os.Stat(p); err != nil {
		if q := filepath.Join("..", "org", name); fileExists(q) {
			return q
		}
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// errInvalid is returned after the problems of the files were printed.
var errInvalid = errors.New("the files are not valid; nothing was started")

// run is main without the process: it parses args, serves until ctx is done,
// and prints the addresses it listens on to stdout ("IMAP listening on
// 127.0.0.1:41234") and the log to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	imapAddr := fs.String("imap", "127.0.0.1:0", "loopback `address` for IMAP; \"off\" for none")
	smtpAddr := fs.String("smtp", "127.0.0.1:0", "loopback `address` for SMTP submission; \"off\" for none")
	rules := fs.String("rules", defaultFile("rules.json"), "`file` of list-access-control-rules output (watched)")
	users := fs.String("users", defaultFile("users.json"), "`file` of list-users output (watched)")
	poll := fs.Duration("poll", time.Second, "how often to check the files for changes")
	proxy := fs.Bool("proxy", false, "every connection starts with a PROXY protocol v1 header giving the client's address")
	asClient := fs.String("as-client", "", "treat every connection as coming from this IPv4 `address` (for trying the example)")
	idle := fs.Duration("idle", 5*time.Minute, "close connections idle for this long")
	logFormat := fs.String("log", "text", "log format: text or json")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: gateway [flags]\n\nAn IMAP/SMTP login front end that asks the access-control rules about every login.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var h slog.Handler
	switch *logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, nil)
	case "json":
		h = slog.NewJSONHandler(stderr, nil)
	default:
		return fmt.Errorf("-log: want text or json, got %q", *logFormat)
	}
	cfg := Config{RulesFile: *rules, UsersFile: *users, Poll: *poll, Log: slog.New(h), ProxyHeader: *proxy, IdleTimeout: *idle}
	if *asClient != "" && *proxy {
		return errors.New("either -proxy or -as-client, not both")
	}
	if *asClient != "" {
		ip, err := netip.ParseAddr(*asClient)
		if err != nil || !ip.Is4() {
			return fmt.Errorf("-as-client: %q is not an IPv4 address", *asClient)
		}
		cfg.AsClient = ip
	}
	type front struct {
		proto accessctl.Action
		addr  string
		ln    net.Listener
	}
	fronts := []*front{{proto: accessctl.IMAP, addr: *imapAddr}, {proto: accessctl.SMTP, addr: *smtpAddr}}
	for _, f := range fronts {
		if f.addr != "off" {
			if err := checkLoopback(f.addr); err != nil {
				return fmt.Errorf("-%s: %w", strings.ToLower(f.proto.String()), err)
			}
		}
	}

	g, err := New(cfg)
	var fe *fileError
	if errors.As(err, &fe) {
		for _, e := range policy.Errors(fe.err) {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "(in %s)\n", fe.file)
		return errInvalid
	}
	if err != nil {
		return err // a file that cannot be read
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lc net.ListenConfig
	for _, f := range fronts {
		if f.addr == "off" {
			continue
		}
		ln, err := lc.Listen(ctx, "tcp", f.addr)
		if err != nil {
			for _, f := range fronts {
				if f.ln != nil {
					f.ln.Close()
				}
			}
			return err
		}
		f.ln = ln
		fmt.Fprintf(stdout, "%s listening on %s\n", f.proto, ln.Addr())
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				g.Check()
			}
		}
	}()
	go g.Watch(ctx)

	errc := make(chan error, len(fronts))
	n := 0
	for _, f := range fronts {
		if f.ln == nil {
			continue
		}
		n++
		go func() {
			if f.proto == accessctl.IMAP {
				errc <- g.ServeIMAP(ctx, f.ln)
			} else {
				errc <- g.ServeSMTP(ctx, f.ln)
			}
		}()
	}
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel() // stop the other front end too
		}
	}
	cfg.Log.Info("stopped")
	return first
}

// checkLoopback refuses a listen address that is not a loopback address.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: this example listens on 127.0.0.1 or ::1 only", addr)
	}
	return nil
}
