// Command wmpolicy evaluates and checks Amazon WorkMail access-control rules and
// impersonation roles offline, exactly as the WorkMail API defines them, and
// issues and verifies impersonation tokens.
//
// Usage:
//
//	wmpolicy eval --rules RULES.json [--users USERS.json] --ip IP --action ACTION (--user ID | --role ID) [--output text|json]
//	wmpolicy eval --rules RULES.json [--users USERS.json] < requests.json
//	wmpolicy validate [--users USERS.json] [--output text|json] RULES.json
//	wmpolicy version
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
// eval without request flags is batch mode: standard input is a stream of
// GetAccessControlEffect request objects ({"IpAddress":…,"Action":…,"UserId":…}
// or with "ImpersonationRoleId"; "OrganizationId" is accepted and ignored), one
// per line or pretty-printed as the AWS CLI prints them, blank lines ignored;
// every value gets one line of output, {"Effect":…,"MatchedRules":[…]} or, for
// an invalid request, {"__type":"<AWS code>","Message":…}. It answers every
// value, then exits 0, or 3 when any was invalid.
//
// Every verb reads "-" as standard input, limits each input to 64 MiB
// (--max-input-bytes raises it) and reports a file it cannot read as the
// operating system's error (exit 1). -h or --help prints a verb's usage (exit 0).
//
// validate prints every problem of a rules file with its path (exit 3), or a
// summary and any notes, such as exceeding WorkMail's 10-rule limit (exit 0);
// --output json prints {"File","Valid","Rules","Notes","Errors":[{"__type","Path","Message"}]}.
//
// Impersonation roles and tokens:
//
//	wmpolicy impersonation-effect --role ROLE.json [--users USERS.json] --target USER [--output text|json]
//	wmpolicy impersonation-effect --role ROLE.json [--users USERS.json] < targets.jsonl
//	wmpolicy token issue  (--key KEYFILE | --state DIR) --org ORG_ID --role ROLE_ID [--now RFC3339]
//	wmpolicy token verify (--key KEYFILE | --state DIR) --org ORG_ID [--role-exists ROLE_ID ...] [--now RFC3339] [TOKEN]
//	wmpolicy token genkey [--id ID] [--out FILE]
//
// impersonation-effect answers GetImpersonationRoleEffect for the role in
// ROLE.json (`aws workmail get-impersonation-role` output): the role's type, the
// effect, why, the deciding rules, every matching rule and the user the target
// resolved to (with --users; without it, targets and the role's TargetUsers are
// compared as exact strings, SEMANTICS B2). --output json prints the response
// shape {"Type":…,"Effect":…,"MatchedRules":[{"ImpersonationRuleId":…,"Name":…}]}.
// Exit status: 0 ALLOW, 2 DENY, 3 invalid input (role or users file; a target
// that is malformed, unknown — EntityNotFoundException — or not enabled —
// EntityStateException), 1 any other failure. Without --target it is batch mode,
// as for eval: each line is {"TargetUser":…} (any other member is an error on
// that line) and gets one line, the response shape or {"__type":…,"Message":…}.
//
// token issues and verifies impersonation tokens offline (SEMANTICS B8). issue
// prints the AssumeImpersonationRole response {"Token":…,"ExpiresIn":900}; verify
// prints the claims of a valid token (OrganizationId, ImpersonationRoleId, KeyId,
// IssuedAt and ExpiresAt in RFC 3339, TokenId in hex) and exits 0, or prints why
// the token is invalid and exits 2. With --role-exists flags only those roles
// exist; without them every role does. --now sets the clock. genkey prints a new
// key file with one random 32-byte key. Exit status 3 is bad usage, a bad key file
// or a malformed argument. The key file is JSON, and should be readable by its
// owner only (a warning is printed otherwise):
//
//	{"Keys": [{"Id": "k2", "Secret": "<base64 of ≥ 32 random bytes>"}, {"Id": "k1", "Secret": "…"}]}
//
// The first key signs new tokens; every key verifies. To rotate keys, put the new
// key first and keep the older ones until their tokens have expired. With
// --state DIR instead of --key, token uses the keys of a 'wmpolicy org' state
// (DIR/keys.json, the keys 'wmpolicy org assume' signs with) and its live roles.
//
// Analysis (package analysis; every answer exact, with witness requests):
//
//	wmpolicy explain --rules RULES.json [--users USERS.json] [--roles ROLES.json] --ip IP --action ACTION (--user ID | --role ID) [--output text|json]
//	wmpolicy audit RULES.json [--users USERS.json] [--roles ROLES.json] [--fail-on error|warning|suggestion] [--output text|json]
//	wmpolicy diff OLD.json NEW.json [--users USERS.json] [--roles ROLES.json] [--output text|json]
//	wmpolicy who-can RULES.json (--user ID | --role ID | --action ACTION --ip IP) [--users USERS.json] [--roles ROLES.json] [--output text|json]
//
// explain shows every rule's every condition for one request (exit 0 ALLOW, 2
// DENY). audit lists findings (rules that never match, shadowed and redundant
// rules, lock-outs, host-bit, duplicate and nested ranges, unknown users and
// roles, rules past WorkMail's limit) and exits 4 when one is at or above
// --fail-on (default error), 0 otherwise. diff prints the regions of requests
// whose effect changes and the verdict, exiting 0 when the rule sets are
// equivalent and 5 otherwise. who-can prints what a principal may do, from
// where, or who may use an action from an address. ROLES.json is `aws workmail
// list-impersonation-roles` output. All: 3 invalid input, 1 other failure.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
