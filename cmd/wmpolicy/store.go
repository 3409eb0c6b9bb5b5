package main

import (
	"flag"
	"strings"
)

// Organization stores on the command line: --state DIR (a state directory)
// or --store, its other name, which also takes a PostgreSQL URL
// (postgres://… or postgresql://…, SEMANTICS G1–G4). Wherever --state is
// accepted, --store is too, and either takes either.

// storeFlag registers --store as another name of the --state flag's value.
func storeFlag(fs *flag.FlagSet, state *string) {
	fs.StringVar(state, "store", "", "the organization store: a state `DIR`, or a PostgreSQL URL postgres://… shared by many processes (same as --state)")
}

// isStoreURL reports whether a --state/--store value is a PostgreSQL URL.
func isStoreURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// readOnlyVerbs are the 'wmpolicy org' verbs that change nothing: they open
// a state directory without its lock (so they run next to a serve that
// holds it, and on a read-only mount) and a database read-only.
var readOnlyVerbs = map[string]bool{
	"list": true, "describe": true, "list-rules": true, "get-role": true,
	"list-roles": true, "assume": true, "list-users": true, "list-aliases": true,
}
