package main

import (
	"errors"
	"flag"

	"github.com/wmpolicy/wmpolicy/enforce"
)

// --postfix: the Postfix SMTP access policy delegation server (SEMANTICS E5).

func init() {
	registerListener("postfix", serveListener{
		usage: "Postfix policy delegation server (check_policy_service inet:ADDR)",
		flags: func(fs *flag.FlagSet) func(*serveEnv) (*serveUnit, error) {
			idle := fs.Duration("postfix-idle", enforce.DefaultIdleTimeout, "close a Postfix policy connection idle this long")
			return func(env *serveEnv) (*serveUnit, error) {
				src, err := env.requireSource("postfix")
				if err != nil {
					return nil, err
				}
				if *idle <= 0 {
					return nil, errors.New("--postfix-idle must be positive")
				}
				p, err := enforce.NewPostfixPolicy(&enforce.Decider{Source: src, Log: env.log}, enforce.PostfixOptions{IdleTimeout: *idle})
				if err != nil {
					return nil, err
				}
				return &serveUnit{conn: p.ServeConn}, nil
			}
		},
	})
}
