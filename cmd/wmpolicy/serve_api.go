package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/wmpolicy/wmpolicy/awsapi"
)

// The --api listener of 'wmpolicy serve': the WorkMail API (awsapi) over
// the --state store, signed with SigV4 (SEMANTICS F1–F4).

// apiCredentialsName is the credentials file's name in the state directory
// when --credentials is not given.
const apiCredentialsName = "api-credentials.json"

func init() {
	registerListener("api", serveListener{
		usage: "the WorkMail API (aws workmail --endpoint-url http://ADDR); needs --state",
		flags: func(fs *flag.FlagSet) func(env *serveEnv) (*serveUnit, error) {
			creds := fs.String("credentials", "", "API keys `FILE` (mode 0600; default STATE/"+apiCredentialsName+")")
			generate := fs.Bool("generate-key", false, "when the --credentials file does not exist, create it with one new key (its ID is logged; the secret is only in the file)")
			region := fs.String("region", awsapi.DefaultRegion, "the `REGION` API signatures must be scoped to")
			cert := fs.String("tls-cert", "", "serve the API over TLS with this certificate `FILE` (PEM, with --tls-key)")
			key := fs.String("tls-key", "", "the TLS private key `FILE` (PEM, with --tls-cert)")
			noAuth := fs.Bool("insecure-no-auth", false, "serve the API without authentication (refused unless --api is a loopback address)")
			return func(env *serveEnv) (*serveUnit, error) {
				if env.store == nil {
					return nil, errors.New("the WorkMail API needs --state DIR")
				}
				if (*cert == "") != (*key == "") {
					return nil, errors.New("--tls-cert and --tls-key go together")
				}
				opts := awsapi.Options{Store: env.store, Region: *region, Logger: env.log, InsecureNoAuth: *noAuth}
				if *noAuth {
					if *creds != "" || *generate {
						return nil, errors.New("--insecure-no-auth and --credentials/--generate-key exclude each other")
					}
					env.log.Warn("the WorkMail API runs WITHOUT authentication (--insecure-no-auth): loopback clients only")
				} else {
					path := *creds
					if path == "" {
						path = filepath.Join(env.stateDir, apiCredentialsName)
					}
					if *generate {
						k, err := awsapi.GenerateCredentials(path)
						switch {
						case err == nil:
							env.log.Info("generated an API key", "file", path, "key", k.AccessKeyId)
						case errors.Is(err, awsapi.ErrCredentialsExist):
						default:
							return nil, fmt.Errorf("--generate-key: %w", err)
						}
					}
					c, err := awsapi.LoadCredentials(path)
					if errors.Is(err, os.ErrNotExist) {
						return nil, fmt.Errorf("no credentials file %s: write one or start once with --generate-key", path)
					}
					if err != nil {
						return nil, err
					}
					opts.Credentials = c
				}
				h, err := awsapi.NewHandler(opts)
				if err != nil {
					return nil, err
				}
				unit := &serveUnit{handler: h}
				var tlsConf *tls.Config
				if *cert != "" {
					pair, err := tls.LoadX509KeyPair(*cert, *key)
					if err != nil {
						return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
					}
					tlsConf = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
				}
				unit.listen = func(ln net.Listener) (net.Listener, error) {
					if *noAuth {
						a, ok := ln.Addr().(*net.TCPAddr)
						if !ok || !a.IP.IsLoopback() {
							return nil, fmt.Errorf("--insecure-no-auth is refused on %s: listen on a loopback address (127.0.0.1, ::1)", ln.Addr())
						}
					}
					if tlsConf != nil {
						return tls.NewListener(ln, tlsConf), nil
					}
					return ln, nil
				}
				return unit, nil
			}
		},
	})
}
