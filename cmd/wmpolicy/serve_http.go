package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/url"

	"github.com/wmpolicy/wmpolicy/enforce"
)

// The HTTP enforcement points of 'wmpolicy serve' (SEMANTICS E7, E8):
// --http-authz, the authorization endpoint for nginx auth_request and Envoy
// ext_authz, and --ews-proxy, the EWS impersonation reverse proxy. Both read
// --trusted-proxies, --http-user-header and --http-paths, which
// --http-authz declares.

func init() {
	registerListener("http-authz", serveListener{
		usage: "HTTP authorization endpoint (nginx auth_request, Envoy ext_authz) answering at /: 200, 401 or 403 (E7)",
		flags: httpAuthzFlags,
	})
	registerListener("ews-proxy", serveListener{
		usage: "EWS impersonation reverse proxy in front of --ews-upstream (E8, B9)",
		flags: ewsProxyFlags,
	})
}

func httpAuthzFlags(fs *flag.FlagSet) func(*serveEnv) (*serveUnit, error) {
	fs.String("trusted-proxies", "", "`CIDR,...`: peers whose X-Forwarded-For is believed by --http-authz and --ews-proxy (the rightmost untrusted address is the client)")
	fs.String("http-user-header", "", "`NAME` of a header a trusted upstream sets to the authenticated user (else the user of Basic credentials)")
	fs.String("http-paths", enforce.DefaultPathActionsText, "`TABLE` of path prefixes to actions, tried in order, case-insensitive; *=Action for the rest")
	deferBearer := fs.Bool("http-defer-ews-bearer", false, "let --http-authz pass Bearer-token requests on EWS paths (200 with X-Wmpolicy-Deferred) because an --ews-proxy in front of the EWS server decides them")
	realm := fs.String("http-realm", "wmpolicy", "the Basic `REALM` of 401 answers")
	front := fs.String("http-front", "", "`FRONT` of --http-authz (required): nginx (the original request in X-Original-URI/-Method; refused without), envoy (the request's own path; X-Original-URI ignored), or auto (X-Original-URI when present)")
	return func(env *serveEnv) (*serveUnit, error) {
		h, err := buildHTTPAuthz(fs, env, "http-authz")
		if err != nil {
			return nil, err
		}
		h.DeferEWSBearer = *deferBearer
		h.Realm = *realm
		if *front == "" {
			// No default: behind nginx, a configuration that forgot
			// X-Original-URI would have every request decided as the auth
			// location's own path (WebMail).
			return nil, fmt.Errorf("--http-front nginx|envoy|auto is required: where the original request line comes from")
		}
		if h.Front, err = enforce.ParseFront(*front); err != nil {
			return nil, fmt.Errorf("--http-front: %v", err)
		}
		return &serveUnit{handler: h}, nil
	}
}

// buildHTTPAuthz builds the HTTPAuthz both HTTP listeners decide with, from
// the shared flags.
func buildHTTPAuthz(fs *flag.FlagSet, env *serveEnv, listener string) (*enforce.HTTPAuthz, error) {
	src, err := env.requireSource(listener)
	if err != nil {
		return nil, err
	}
	proxies, err := enforce.ParseTrustedProxies(fs.Lookup("trusted-proxies").Value.String())
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %v", err)
	}
	paths, err := enforce.ParsePathActions(fs.Lookup("http-paths").Value.String())
	if err != nil {
		return nil, fmt.Errorf("--http-paths: %v", err)
	}
	return &enforce.HTTPAuthz{
		Decider:    &enforce.Decider{Source: src, Log: env.log},
		Paths:      paths,
		Proxies:    proxies,
		UserHeader: fs.Lookup("http-user-header").Value.String(),
		Realm:      fs.Lookup("http-realm").Value.String(),
	}, nil
}

func ewsProxyFlags(fs *flag.FlagSet) func(*serveEnv) (*serveUnit, error) {
	upstream := fs.String("ews-upstream", "", "`URL` of the EWS server behind --ews-proxy (http:// or https://)")
	limit := fs.Int("ews-max-soap-header", enforce.DefaultMaxSOAPHeader, "how many `BYTES` of an impersonated request's body are read to find its SOAP header (at most 1 MiB)")
	orgID := fs.String("ews-org", "", "with --rules/--users: the organization `ID` (m-...) impersonation tokens are issued for")
	keys := fs.String("ews-keys", "", "with --rules/--users: the `KEYFILE` impersonation tokens are signed with ('wmpolicy token' format)")
	var roles stringList
	fs.Var(&roles, "ews-role", "with --rules/--users: a `ROLE.json` (get-impersonation-role output); repeat for each role")
	return func(env *serveEnv) (*serveUnit, error) {
		h, err := buildHTTPAuthz(fs, env, "ews-proxy")
		if err != nil {
			return nil, err
		}
		if *upstream == "" {
			return nil, errors.New("--ews-upstream URL is required")
		}
		up, err := url.Parse(*upstream)
		if err != nil {
			return nil, fmt.Errorf("--ews-upstream: %v", err)
		}
		src, _ := env.requireSource("ews-proxy")
		var auths *enforce.EWSAuthorizers
		fileFlags := *orgID != "" || *keys != "" || len(roles) > 0
		switch {
		case env.store != nil && fileFlags:
			return nil, errors.New("--ews-org, --ews-keys and --ews-role go with --rules/--users; with --state the store's roles and keys are used")
		case env.store != nil:
			auths = enforce.NewEWSAuthorizers(src, enforce.StoreEWSAuthorizer(env.store, env.orgID), env.log)
		case *orgID == "" || *keys == "" || len(roles) == 0:
			if fileFlags {
				return nil, errors.New("EWS impersonation from files needs --ews-org, --ews-keys and at least one --ews-role")
			}
			env.log.Warn("--ews-proxy without --ews-org, --ews-keys and --ews-role: every impersonated request is denied")
		default:
			// Warn about a key file others may read, as 'wmpolicy token' does.
			if _, p := loadKeyRing(*keys, &logWriter{env}); p != nil {
				var b bytes.Buffer
				p.print(&b)
				return nil, fmt.Errorf("--ews-keys: %s", bytes.TrimSpace(b.Bytes()))
			}
			files, err := enforce.NewEWSFiles(enforce.EWSFilesOptions{
				OrganizationID: *orgID, KeyFile: *keys, RoleFiles: roles, Log: env.log,
			})
			if err != nil {
				return nil, fmt.Errorf("--ews-keys/--ews-role: %v", err)
			}
			auths = files.Authorizers(src)
			// Build once now, so that a role that does not compile against
			// the users is reported at start.
			if auths.Authorizer() == nil {
				return nil, errors.New("--ews-role: the roles do not compile against --users (see the log)")
			}
		}
		p, err := enforce.NewEWSProxy(enforce.EWSProxyOptions{
			Upstream: up, Authorizers: auths, HTTP: h, MaxSOAPHeader: *limit, Log: env.log,
		})
		if err != nil {
			return nil, err
		}
		// The proxy streams bodies (attachments) of any length upstream.
		return &serveUnit{handler: p, streams: true}, nil
	}
}

// logWriter turns loadKeyRing's warnings into log records.
type logWriter struct{ env *serveEnv }

func (w *logWriter) Write(p []byte) (int, error) {
	w.env.log.Warn(string(bytes.TrimSpace(p)))
	return len(p), nil
}
