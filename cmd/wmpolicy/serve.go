package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wmpolicy/wmpolicy/enforce"
	"github.com/wmpolicy/wmpolicy/org"
)

// 'wmpolicy serve' runs listeners over one source of rules. Each kind of
// listener lives in its own file (serve_*.go) and registers itself with
// registerListener; this file owns the sources, logging, signals and
// shutdown.

const serveUsage = `Usage: wmpolicy serve (--rules RULES.json --users USERS.json | --state DIR [--org ID]) LISTENER... [flags]

Runs enforcement points (and the WorkMail API, with --state) until SIGINT or
SIGTERM; both finish the requests in flight (up to --drain) and exit 0.
SIGHUP re-reads --rules and --users at once (they are also polled every
--poll); an invalid change is logged and the rules in force stay.

Sources of rules (exactly one):
  --rules RULES.json --users USERS.json   list-access-control-rules and list-users output, hot-reloaded
  --state DIR [--org ID]                  a 'wmpolicy org' state directory; --org names the organization
                                          whose rules the enforcement points follow
  --store postgres://… [--org ID]         the same from PostgreSQL, shared by every serve on it; changes
                                          arrive by LISTEN/NOTIFY (docs/postgres.md); --health ADDR
                                          serves its freshness as JSON

Listeners (each takes an address such as 127.0.0.1:9000; port 0 picks one, and
the "listening" log line says which):
`

// serveListener is one kind of listener of 'wmpolicy serve'.
type serveListener struct {
	// usage is the help of its address flag.
	usage string
	// flags declares the listener's own flags besides its address flag, and
	// returns the function that builds the listener once flags are parsed
	// and the source is open. It is called for every run, enabled or not.
	flags func(fs *flag.FlagSet) func(env *serveEnv) (*serveUnit, error)
}

// serveUnit is a built listener: an HTTP handler, or a handler of raw TCP
// connections. When ctx is done (shutdown has begun) a conn handler must
// finish the request in flight, if any, and return.
type serveUnit struct {
	handler http.Handler
	// streams says that the handler streams request bodies of any length
	// (--ews-proxy): its requests are not bounded by serveReadTimeout.
	streams bool
	conn    func(ctx context.Context, c net.Conn)
	// listen, when not nil, checks or wraps the listener once it is bound
	// (the API's loopback-only rule, its TLS); an error stops serve.
	listen func(net.Listener) (net.Listener, error)
}

// serveReadTimeout bounds how long one request (headers and body) may take
// to arrive on an HTTP listener that reads bodies whole: a client that
// withholds or trickles its body is cut off instead of holding a connection
// and a goroutine for as long as it likes. Their bodies are small (1 MiB at
// most), so a minute is generous. A variable for the tests.
var serveReadTimeout = time.Minute

// serveEnv is what listeners are built from.
type serveEnv struct {
	log    *slog.Logger
	source enforce.Source // nil with --state and no --org
	store  *org.Store     // nil without --state
	orgID  string         // --org
	// stateDir is --state ("" without it).
	stateDir string
}

// requireSource returns the source, or an error naming the listener when
// there is none (--state without --org).
func (e *serveEnv) requireSource(listener string) (enforce.Source, error) {
	if e.source == nil {
		return nil, fmt.Errorf("--%s needs rules: --rules and --users, or --state with --org", listener)
	}
	return e.source, nil
}

var serveListeners = map[string]serveListener{}

// registerListener adds a listener kind, named by its address flag; it is
// called from init functions.
func registerListener(name string, l serveListener) {
	if _, dup := serveListeners[name]; dup {
		panic("wmpolicy: listener registered twice: " + name)
	}
	serveListeners[name] = l
}

// serveNotify subscribes serve to its signals; a test may replace it (never
// while a serve runs).
var serveNotify = signal.Notify

func cmdServe(args []string, _ io.Reader, _, stderr io.Writer) int {
	fs := newVerbFlags("serve", stderr)
	rulesFile := fs.String("rules", "", "`RULES.json`: list-access-control-rules output (with --users)")
	usersFile := fs.String("users", "", "`USERS.json`: list-users output (with --rules)")
	poll := fs.Duration("poll", time.Second, "how often --rules and --users are checked for changes")
	stateDir := fs.String("state", "", "a 'wmpolicy org' state `DIR`")
	storeFlag(fs, stateDir)
	orgID := fs.String("org", "", "the organization `ID` (m-…) whose rules the enforcement points follow (with --state)")
	logFormat := fs.String("log", "text", "log format: text or json (one record per decision or request, on stderr)")
	drain := fs.Duration("drain", 10*time.Second, "on SIGINT/SIGTERM, how long requests in flight may take to finish")

	names := make([]string, 0, len(serveListeners))
	for name := range serveListeners {
		names = append(names, name)
	}
	sort.Strings(names)
	addrs := make(map[string]*string, len(names))
	builders := make(map[string]func(*serveEnv) (*serveUnit, error), len(names))
	for _, name := range names {
		l := serveListeners[name]
		addrs[name] = fs.String(name, "", l.usage)
		builders[name] = l.flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		for _, name := range names {
			fmt.Fprintf(fs.Output(), "  --%-18s %s\n", name+" ADDR", serveListeners[name].usage)
		}
		fmt.Fprintln(fs.Output(), "\nAll flags:")
		fs.PrintDefaults()
	}
	if !parseFlagsOnly(fs, args, "serve", stderr) {
		return exitInvalid
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "serve: "+format+"\n", a...)
		return exitInvalid
	}

	var handler slog.Handler
	switch *logFormat {
	case "text":
		handler = slog.NewTextHandler(stderr, nil)
	case "json":
		handler = slog.NewJSONHandler(stderr, nil)
	default:
		return usageErr("--log must be text or json, not %q", *logFormat)
	}
	log := slog.New(handler)

	fileMode := *rulesFile != "" || *usersFile != ""
	switch {
	case fileMode && *stateDir != "":
		return usageErr("--rules/--users and --state are two different sources: give one")
	case fileMode && (*rulesFile == "" || *usersFile == ""):
		return usageErr("--rules and --users go together")
	case !fileMode && *stateDir == "":
		return usageErr("no rules: give --rules and --users, or --state DIR")
	case *orgID != "" && *stateDir == "":
		return usageErr("--org goes with --state")
	}
	var enabled []string
	for _, name := range names {
		if *addrs[name] != "" {
			enabled = append(enabled, name)
		}
	}
	if len(enabled) == 0 {
		return usageErr("no listener: give at least one of --%s", strings.Join(names, ", --"))
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	env := &serveEnv{log: log, orgID: *orgID, stateDir: *stateDir}
	var files *enforce.FileSource
	if fileMode {
		var err error
		files, err = enforce.NewFileSource(enforce.FileSourceOptions{RulesFile: *rulesFile, UsersFile: *usersFile, Log: log})
		if err != nil {
			fmt.Fprintf(stderr, "serve: %v\n", err)
			return exitInvalid
		}
		env.source = files
		go files.Watch(ctx, *poll)
	} else {
		opts := org.Options{Dir: *stateDir}
		if isStoreURL(*stateDir) {
			opts = org.Options{Postgres: *stateDir}
		}
		s, err := org.Open(opts)
		if err != nil {
			fmt.Fprintf(stderr, "serve: %v\n", err)
			return exitFailure
		}
		defer s.Close()
		env.store = s
		if *orgID != "" {
			src, err := enforce.NewOrgSource(s, *orgID)
			if err != nil {
				fmt.Fprintf(stderr, "serve: --org: %v\n", err)
				return exitInvalid
			}
			env.source = src
		}
	}

	type running struct {
		name string
		ln   net.Listener
		unit *serveUnit
	}
	var units []running
	closeAll := func() {
		for _, u := range units {
			u.ln.Close()
		}
	}
	for _, name := range enabled {
		unit, err := builders[name](env)
		if err != nil {
			closeAll()
			return usageErr("--%s: %v", name, err)
		}
		ln, err := net.Listen("tcp", *addrs[name])
		if err != nil {
			closeAll()
			fmt.Fprintf(stderr, "serve: --%s: %v\n", name, err)
			return exitFailure
		}
		if unit.listen != nil {
			wrapped, err := unit.listen(ln)
			if err != nil {
				ln.Close()
				closeAll()
				return usageErr("--%s: %v", name, err)
			}
			ln = wrapped
		}
		units = append(units, running{name, ln, unit})
		log.Info("listening", "listener", name, "addr", ln.Addr().String())
	}
	// One record once every listener listens: what supervisors and tests
	// wait for.
	log.Info("serving", "listeners", enabled)

	sigs := make(chan os.Signal, 4)
	serveNotify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	connCtx, stopConns := context.WithCancel(ctx)
	defer stopConns()
	var wg sync.WaitGroup
	var servers []*http.Server
	var conns connSet
	failed := make(chan error, len(units))
	for _, u := range units {
		if u.unit.handler != nil {
			readTimeout := serveReadTimeout
			if u.unit.streams {
				readTimeout = 0
			}
			srv := &http.Server{
				Handler:           u.unit.handler,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       readTimeout,
				IdleTimeout:       2 * time.Minute,
				ErrorLog:          slog.NewLogLogger(handler.WithAttrs([]slog.Attr{slog.String("listener", u.name)}), slog.LevelWarn),
				BaseContext:       func(net.Listener) context.Context { return ctx },
			}
			servers = append(servers, srv)
			wg.Add(1)
			go func(ln net.Listener) {
				defer wg.Done()
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					failed <- err
				}
			}(u.ln)
			continue
		}
		wg.Add(1)
		go func(name string, ln net.Listener, serve func(context.Context, net.Conn)) {
			defer wg.Done()
			conns.accept(connCtx, ln, serve, func(err error) { failed <- fmt.Errorf("--%s: %w", name, err) })
		}(u.name, u.ln, u.unit.conn)
	}

	code := 0
loop:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if files != nil {
					log.Info("SIGHUP: checking the rules files")
					files.Check()
				}
				continue
			}
			log.Info("shutting down", "signal", sig.String(), "drain", drain.String())
			break loop
		case err := <-failed:
			log.Error("listener failed", "error", err)
			code = exitFailure
			break loop
		}
	}

	// Stop accepting, let requests in flight finish (up to --drain), then
	// cancel what is left.
	dctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	for _, u := range units {
		if u.unit.conn != nil {
			u.ln.Close()
		}
	}
	stopConns()
	var swg sync.WaitGroup
	for _, srv := range servers {
		swg.Add(1)
		go func() {
			defer swg.Done()
			if err := srv.Shutdown(dctx); err != nil {
				srv.Close()
			}
		}()
	}
	conns.drain(dctx)
	swg.Wait()
	stop()
	wg.Wait()
	log.Info("stopped")
	return code
}

// connSet tracks the connections of raw TCP listeners, so that shutdown can
// wait for them.
type connSet struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	m       map[net.Conn]struct{}
	closing bool // drain has begun: a connection accepted now is closed at once
}

// accept serves ln until it is closed; fail reports any other accept error.
func (s *connSet) accept(ctx context.Context, ln net.Listener, serve func(context.Context, net.Conn), fail func(error)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				fail(err)
			}
			return
		}
		s.mu.Lock()
		if s.closing {
			// Shutting down: wg.Add may not race drain's Wait.
			s.mu.Unlock()
			c.Close()
			continue
		}
		if s.m == nil {
			s.m = make(map[net.Conn]struct{})
		}
		s.m[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.m, c)
				s.mu.Unlock()
				s.wg.Done()
			}()
			serve(ctx, c)
		}()
	}
}

// drain waits for the connections to end until ctx is done, then closes the
// rest.
func (s *connSet) drain(ctx context.Context) {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.m {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
}
