// Command wmpolicy evaluates and checks Amazon WorkMail access-control rules and
// impersonation roles offline, exactly as the WorkMail API defines them, issues
// and verifies impersonation tokens, analyses rule sets, manages organizations
// and serves enforcement points and the WorkMail API.
//
// Run 'wmpolicy help' for the verbs and their synopses (generated from the
// registrations in verbs.go) and 'wmpolicy VERB --help' for one verb's flags
// and exit statuses; docs/cli.md says what each verb answers and how it exits.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
