package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wmpolicy/wmpolicy/accessctl"
	"github.com/wmpolicy/wmpolicy/enforce"
)

// --dovecot: the Dovecot authentication policy server (SEMANTICS E4).

func init() {
	registerListener("dovecot", serveListener{
		usage: "Dovecot auth policy server (auth_policy_server_url = http://ADDR/)",
		flags: func(fs *flag.FlagSet) func(*serveEnv) (*serveUnit, error) {
			pop3 := fs.String("dovecot-pop3", "", "the WorkMail `ACTION` POP3 logins are decided as (IMAP, say); unset: every POP3 login is denied")
			header := fs.String("dovecot-api-header", "", "require this request `HEADER` (Dovecot's auth_policy_server_api_header) with the value in --dovecot-api-key-file")
			keyFile := fs.String("dovecot-api-key-file", "", "`FILE` holding the value of --dovecot-api-header (one line)")
			return func(env *serveEnv) (*serveUnit, error) {
				src, err := env.requireSource("dovecot")
				if err != nil {
					return nil, err
				}
				opts := enforce.DovecotOptions{APIHeader: *header}
				if opts.POP3, err = parsePOP3Flag("dovecot-pop3", *pop3); err != nil {
					return nil, err
				}
				if opts.APIKey, err = readSecretFlag("dovecot-api-header", *header, "dovecot-api-key-file", *keyFile); err != nil {
					return nil, err
				}
				h, err := enforce.NewDovecotPolicy(&enforce.Decider{Source: src, Log: env.log}, opts)
				if err != nil {
					return nil, err
				}
				return &serveUnit{handler: h}, nil
			}
		},
	})
}

// parsePOP3Flag parses a POP3 mapping flag: "" is no mapping (E2).
func parsePOP3Flag(name, v string) (accessctl.Action, error) {
	if v == "" {
		return 0, nil
	}
	a, err := accessctl.ParseAction(v)
	if err != nil {
		return 0, fmt.Errorf("--%s: %v", name, err)
	}
	return a, nil
}

// readSecretFlag reads a shared secret from a file given with its header
// flag: both or neither.
func readSecretFlag(headerFlag, header, fileFlag, file string) (string, error) {
	switch {
	case header == "" && file == "":
		return "", nil
	case header == "" || file == "":
		return "", fmt.Errorf("--%s and --%s go together", headerFlag, fileFlag)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--%s: %v", fileFlag, err)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" || strings.ContainsAny(v, "\r\n") {
		return "", fmt.Errorf("--%s: want one non-empty line", fileFlag)
	}
	return v, nil
}
