#!/usr/bin/env bash
# Drives 'wmpolicy serve --api' with the real AWS CLI v2 ('aws workmail …
# --endpoint-url'), signing with a key serve generates, through every
# operation wmpolicy implements, and checks the outputs (SEMANTICS F1-F4).
# Users are named by ID here: the CLI of Debian 12 (2.9.19) carries an older
# model whose EntityId and UserId need 12 characters; names and emails are
# exercised by the SDK test (awsapi/sdktest), and so are ListUsers' Filters,
# which that CLI does not know.
# Nothing leaves loopback: the CLI's config and credentials files are empty
# temporary files, the key comes from the environment, no pager, no IMDS.
#
# Usage: awsapi/clitest/awscli.sh   (from anywhere; installs awscli with
# apt-get when /usr/bin/aws is missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

AWS=/usr/bin/aws
if [ ! -x "$AWS" ]; then
  echo "awscli.sh: installing awscli (Debian's package is the AWS CLI v2)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq awscli; else sudo apt-get update -qq && sudo apt-get install -y -qq awscli; fi
fi

tmp=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/wmpolicy" ./cmd/wmpolicy
"$tmp/wmpolicy" serve --state "$tmp/state" --api 127.0.0.1:0 --generate-key 2> "$tmp/serve.log" &
server=$!
addr=
for _ in $(seq 100); do
  addr=$(sed -n 's/.*listener=api addr=\(127\.0\.0\.1:[0-9]*\).*/\1/p' "$tmp/serve.log")
  [ -n "$addr" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$tmp/serve.log"; echo "awscli.sh: serve exited"; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { cat "$tmp/serve.log"; echo "awscli.sh: serve did not start"; exit 1; }

creds="$tmp/state/api-credentials.json"
: > "$tmp/aws-config"; : > "$tmp/aws-credentials"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_CA_BUNDLE
export AWS_CONFIG_FILE="$tmp/aws-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/aws-credentials"
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1 AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1
export AWS_ACCESS_KEY_ID=$(sed -n 's/.*"AccessKeyId": "\([^"]*\)".*/\1/p' "$creds")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/.*"SecretAccessKey": "\([^"]*\)".*/\1/p' "$creds")

wm() { "$AWS" workmail "$@" --endpoint-url "http://$addr" --output text; }
fail() { echo "awscli.sh: FAIL: $*"; echo "--- serve log"; tail -20 "$tmp/serve.log"; exit 1; }
expect() { # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
  echo "ok   $1"
}
expect_error() { # expect_error CODE aws-workmail-args...
  local code=$1; shift
  if out=$(wm "$@" 2>&1); then fail "$* succeeded, want $code"; fi
  case "$out" in *"($code)"*) echo "ok   $* -> $code" ;; *) fail "$*: $out, want $code" ;; esac
}

org=$(wm create-organization --alias cli --domains DomainName=cli.example --client-token cli-token-1 --query OrganizationId)
again=$(wm create-organization --alias cli --domains DomainName=cli.example --client-token cli-token-1 --query OrganizationId)
expect "create-organization ClientToken replay" "$again" "$org"
wm create-organization --alias cli-b > /dev/null
wm create-organization --alias cli-c > /dev/null
expect "describe-organization" "$(wm describe-organization --organization-id "$org" --query '[State,DefaultMailDomain]')" "Active	cli.example"
expect "list-organizations (the CLI follows NextToken, pages of 1)" \
  "$(wm list-organizations --page-size 1 --query 'OrganizationSummaries[].Alias' | tr '\t' '\n' | paste -sd, -)" "cli,cli-b,cli-c"
expect "list-organizations one page carries a NextToken" \
  "$(wm list-organizations --max-results 1 --no-paginate --query 'length(OrganizationSummaries)')" "1"
expect_error OrganizationNotFoundException describe-organization --organization-id m-00000000000000000000000000000000

alice=$(wm create-user --organization-id "$org" --name alice --display-name Alice --password 'Pw-alice-12345' --query UserId)
bob=$(wm create-user --organization-id "$org" --name bob --display-name Bob --password Pw-bob-12345 --query UserId)
wm create-user --organization-id "$org" --name carol --display-name Carol --password Pw-carol-12345 --query UserId > /dev/null
expect_error NameAvailabilityException create-user --organization-id "$org" --name ALICE --display-name again --password Pw-again-12345
wm register-to-work-mail --organization-id "$org" --entity-id "$alice" --email alice@cli.example
expect_error MailDomainNotFoundException register-to-work-mail --organization-id "$org" --entity-id "$bob" --email bob@elsewhere.example
expect_error EmailAddressInUseException register-to-work-mail --organization-id "$org" --entity-id "$bob" --email alice@cli.example
expect "describe-user" "$(wm describe-user --organization-id "$org" --user-id alice@cli.example --query '[UserId,State]')" "$alice	ENABLED"
expect "list-users (the CLI follows NextToken, pages of 2)" \
  "$(wm list-users --organization-id "$org" --page-size 2 --query 'Users[].Name' | tr '\t' '\n' | sort | paste -sd, -)" "alice,bob,carol"
expect_error EntityStateException delete-user --organization-id "$org" --user-id "$alice"

wm put-access-control-rule --organization-id "$org" --name no-imap --effect DENY --description "no IMAP for alice" \
  --actions IMAP --user-ids alice@cli.example
expect_error InvalidParameterException put-access-control-rule --organization-id "$org" --name typo --effect DENY --description x --not-actions Imap
expect "list-access-control-rules" "$(wm list-access-control-rules --organization-id "$org" --query 'Rules[].Name')" "default	no-imap"
expect "get-access-control-effect IMAP" \
  "$(wm get-access-control-effect --organization-id "$org" --ip-address 127.0.0.1 --action IMAP --user-id "$alice" --query '[Effect,MatchedRules[0]]')" "DENY	no-imap"
expect "get-access-control-effect EWS" \
  "$(wm get-access-control-effect --organization-id "$org" --ip-address 127.0.0.1 --action EWS --user-id "$alice" --query Effect)" "ALLOW"

# Aliases (SEMANTICS F5): one more address names alice in the rules.
wm create-alias --organization-id "$org" --entity-id "$alice" --alias ali@cli.example
wm create-alias --organization-id "$org" --entity-id alice@cli.example --alias Alice.Two@cli.example
expect_error EntityStateException create-alias --organization-id "$org" --entity-id "$bob" --alias bobby@cli.example
expect_error MailDomainNotFoundException create-alias --organization-id "$org" --entity-id "$alice" --alias ali@elsewhere.example
expect "list-aliases (the CLI follows NextToken, pages of 1)" \
  "$(wm list-aliases --organization-id "$org" --entity-id "$alice" --page-size 1 --query 'Aliases[]' | tr '\t' '\n' | paste -sd, -)" "ali@cli.example,Alice.Two@cli.example"
expect "get-access-control-effect by an alias" \
  "$(wm get-access-control-effect --organization-id "$org" --ip-address 127.0.0.1 --action IMAP --user-id ALI@cli.example --query Effect)" "DENY"
wm delete-alias --organization-id "$org" --entity-id "$alice" --alias alice.two@cli.example
expect "delete-alias" "$(wm list-aliases --organization-id "$org" --entity-id "$alice" --query 'Aliases[]')" "ali@cli.example"

rules='[{"ImpersonationRuleId":"r1","Effect":"ALLOW","TargetUsers":["alice"]}]'
role=$(wm create-impersonation-role --organization-id "$org" --name reader --type READ_ONLY --rules "$rules" --client-token role-token --query ImpersonationRoleId)
expect "create-impersonation-role ClientToken replay" \
  "$(wm create-impersonation-role --organization-id "$org" --name reader --type READ_ONLY --rules "$rules" --client-token role-token --query ImpersonationRoleId)" "$role"
expect "get-impersonation-role" "$(wm get-impersonation-role --organization-id "$org" --impersonation-role-id "$role" --query '[Name,Type]')" "reader	READ_ONLY"
wm create-impersonation-role --organization-id "$org" --name x1 --type FULL_ACCESS --rules '[]' > /dev/null
wm update-impersonation-role --organization-id "$org" --impersonation-role-id "$role" --name reader2 --type FULL_ACCESS \
  --rules '[{"ImpersonationRuleId":"r1","Effect":"DENY"}]'
page=$(wm list-impersonation-roles --organization-id "$org" --max-results 1 --query '[Roles[0].Name,NextToken]')
first=${page%%	*}; token=${page#*	}
expect "list-impersonation-roles page 1" "$first" "reader2"
expect "list-impersonation-roles page 2 (--next-token)" \
  "$(wm list-impersonation-roles --organization-id "$org" --max-results 1 --next-token "$token" --query '[Roles[0].Name,NextToken]')" "x1	None"
expect "get-impersonation-role-effect" \
  "$(wm get-impersonation-role-effect --organization-id "$org" --impersonation-role-id "$role" --target-user alice --query '[Effect,Type]')" "DENY	FULL_ACCESS"
expect "assume-impersonation-role" "$(wm assume-impersonation-role --organization-id "$org" --impersonation-role-id "$role" --query ExpiresIn)" "900"
expect_error ResourceNotFoundException get-impersonation-role --organization-id "$org" --impersonation-role-id no-such-role

expect_error UnsupportedOperationException create-group --organization-id "$org" --name g
expect_error InvalidSignatureException list-organizations --region eu-west-1
AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY}x" expect_error InvalidSignatureException list-organizations
AWS_ACCESS_KEY_ID=WMPNOSUCHKEY00000001 expect_error UnrecognizedClientException list-organizations

wm deregister-from-work-mail --organization-id "$org" --entity-id "$alice"
expect "deregistered" "$(wm describe-user --organization-id "$org" --user-id "$alice" --query State)" "DISABLED"
wm delete-access-control-rule --organization-id "$org" --name no-imap
wm delete-impersonation-role --organization-id "$org" --impersonation-role-id "$role"
wm delete-user --organization-id "$org" --user-id "$alice"
expect "delete-organization" "$(wm delete-organization --organization-id "$org" --delete-directory --query State)" "Deleted"
expect_error OrganizationNotFoundException list-users --organization-id "$org"

grep -q "$AWS_SECRET_ACCESS_KEY" "$tmp/serve.log" && fail "the serve log holds the secret"
kill -TERM "$server"; wait "$server" || fail "serve exited non-zero on SIGTERM"
server=
echo "awscli.sh: PASS"
