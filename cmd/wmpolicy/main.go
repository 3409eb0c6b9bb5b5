// Command wmpolicy evaluates and checks Amazon WorkMail access-control rules
// offline, exactly as the WorkMail API defines them.
//
// Usage:
//
//	wmpolicy eval --rules RULES.json [--users USERS.json] --ip IP --action ACTION (--user ID | --role ID) [--output text|json]
//	wmpolicy eval --rules RULES.json [--users USERS.json] < requests.jsonl
//	wmpolicy validate [--users USERS.json] RULES.json
//
// RULES.json is exactly what `aws workmail list-access-control-rules` prints, and
// USERS.json what `aws workmail list-users` prints. With --users, users may be
// named by ID, email, alias or user name (SEMANTICS A18).
//
// eval with request flags answers one request: the effect, the rules that decided
// it and why (--output json prints the GetAccessControlEffect response shape).
// Exit status: 0 ALLOW, 2 DENY, 3 invalid input (rules, users, request or usage),
// 1 any other failure.
//
// eval without request flags is batch mode: every line of standard input is a
// GetAccessControlEffect request object ({"IpAddress":…,"Action":…,"UserId":…} or
// with "ImpersonationRoleId"; "OrganizationId" is accepted and ignored), and
// every line gets one line of output, {"Effect":…,"MatchedRules":[…]} or, for an
// invalid request, {"__type":"<AWS code>","Message":…}. It keeps going after a bad
// line and exits 0 when every line was answered.
//
// validate prints every problem of a rules file with its path (exit 3), or a
// summary and any notes, such as exceeding WorkMail's 10-rule limit (exit 0).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
