package main

import (
	"flag"
	"fmt"
	"net/netip"

	"github.com/wmpolicy/wmpolicy/enforce"
)

// --nginx-mail: the nginx mail auth_http server (SEMANTICS E6).

func init() {
	registerListener("nginx-mail", serveListener{
		usage: "nginx mail auth_http server (auth_http ADDR/;)",
		flags: func(fs *flag.FlagSet) func(*serveEnv) (*serveUnit, error) {
			pop3 := fs.String("nginx-mail-pop3", "", "the WorkMail `ACTION` POP3 logins are decided as; unset: every POP3 login is denied")
			imapBackend := fs.String("nginx-mail-imap-backend", "", "`IP:PORT` nginx proxies allowed IMAP logins to (Auth-Server, Auth-Port)")
			pop3Backend := fs.String("nginx-mail-pop3-backend", "", "`IP:PORT` nginx proxies allowed POP3 logins to")
			smtpBackend := fs.String("nginx-mail-smtp-backend", "", "`IP:PORT` nginx proxies allowed SMTP sessions to")
			header := fs.String("nginx-mail-secret-header", "", "require this request `HEADER` (nginx: auth_http_header) with the value in --nginx-mail-secret-file")
			secretFile := fs.String("nginx-mail-secret-file", "", "`FILE` holding the value of --nginx-mail-secret-header (one line)")
			return func(env *serveEnv) (*serveUnit, error) {
				src, err := env.requireSource("nginx-mail")
				if err != nil {
					return nil, err
				}
				opts := enforce.NginxMailOptions{SecretHeader: *header}
				if opts.POP3, err = parsePOP3Flag("nginx-mail-pop3", *pop3); err != nil {
					return nil, err
				}
				if opts.Secret, err = readSecretFlag("nginx-mail-secret-header", *header, "nginx-mail-secret-file", *secretFile); err != nil {
					return nil, err
				}
				for _, b := range []struct {
					flag string
					v    string
					dst  *netip.AddrPort
				}{
					{"nginx-mail-imap-backend", *imapBackend, &opts.IMAPBackend},
					{"nginx-mail-pop3-backend", *pop3Backend, &opts.POP3Backend},
					{"nginx-mail-smtp-backend", *smtpBackend, &opts.SMTPBackend},
				} {
					if b.v == "" {
						continue
					}
					if *b.dst, err = enforce.ParseBackend(b.v); err != nil {
						return nil, fmt.Errorf("--%s: %v", b.flag, err)
					}
				}
				if *imapBackend == "" && *pop3Backend == "" && *smtpBackend == "" {
					return nil, fmt.Errorf("give at least one backend: --nginx-mail-imap-backend, --nginx-mail-pop3-backend or --nginx-mail-smtp-backend")
				}
				h, err := enforce.NewNginxMail(&enforce.Decider{Source: src, Log: env.log}, opts)
				if err != nil {
					return nil, err
				}
				return &serveUnit{handler: h}, nil
			}
		},
	})
}
