// Package kind recognizes which AWS CLI output (or wmpolicy file) a JSON
// input is, so that the decoders report a file given to the wrong flag as
// that mix-up rather than as unknown fields (SEMANTICS D2), and words the
// refusal of one page of a longer listing (D4).
package kind

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Kind names what a JSON input is, by the AWS CLI command that prints it, so
// that a file of the wrong kind can be named as such ("this is list-users
// output") rather than reported as an unknown field. The zero Kind is
// [Unknown].
type Kind string

// The kinds [Sniff] recognizes: the AWS CLI outputs and requests wmpolicy
// reads.
const (
	Unknown                 Kind = ""
	ListAccessControlRules  Kind = "aws workmail list-access-control-rules output"
	ListUsers               Kind = "aws workmail list-users output"
	ListImpersonationRoles  Kind = "aws workmail list-impersonation-roles output"
	GetImpersonationRole    Kind = "aws workmail get-impersonation-role output"
	ListOrganizations       Kind = "aws workmail list-organizations output"
	AccessControlEffect     Kind = "aws workmail get-access-control-effect output"
	ImpersonationRoleEffect Kind = "aws workmail get-impersonation-role-effect output"
	AccessControlRequest    Kind = "a GetAccessControlEffect request"
	KeyFile                 Kind = "a wmpolicy token key file"
)

// Sniff guesses the kind of a JSON object from its top-level member names
// only; it never fails: anything it does not recognize, including input that
// is not a JSON object, is [Unknown]. It reads at most the top level of
// data (nested values are skipped, not decoded) and is safe for concurrent use.
func Sniff(data []byte) Kind {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return Unknown
	}
	has := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return Unknown
		}
		k, ok := t.(string)
		if !ok {
			return Unknown
		}
		has[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return Unknown
		}
	}
	switch {
	case has["Users"] && !has["Rules"]:
		return ListUsers
	case has["OrganizationSummaries"]:
		return ListOrganizations
	case has["Roles"] && !has["Name"] && !has["Type"]:
		return ListImpersonationRoles
	case has["ImpersonationRoleId"] && (has["Type"] || has["Rules"]), has["Rules"] && has["Type"]:
		return GetImpersonationRole
	case has["Rules"]:
		return ListAccessControlRules
	case has["Type"] && has["Effect"]:
		return ImpersonationRoleEffect
	case has["Effect"] && has["MatchedRules"]:
		return AccessControlEffect
	case has["IpAddress"] && has["Action"]:
		return AccessControlRequest
	case has["Keys"]:
		return KeyFile
	}
	return Unknown
}

// Mixup returns the message naming the mix-up when data is recognizably of
// another kind than want ("this is aws workmail list-users output, not aws
// workmail list-access-control-rules output: …"), and "" otherwise. Decoders
// call it when strict decoding fails, so that the mix-up is reported (as a
// ValidationException without a path) instead of the unknown fields it causes.
func Mixup(data []byte, want Kind) string {
	got := Sniff(data)
	if got == Unknown || got == want {
		return ""
	}
	return fmt.Sprintf("this is %s, not %s: was the file given to the wrong flag?", got, want)
}

// OnePage returns the message for a listing of kind k that carries a
// NextToken (SEMANTICS D4), reported as a ValidationException at path
// NextToken: it is one page of a longer listing, and reading it as the whole
// would silently drop the rest; the message says how to get the whole listing.
func OnePage(k Kind) string {
	return fmt.Sprintf(
		"this %s is one page of a longer listing (it carries a NextToken), not the whole listing: "+
			"run the command again without --max-items, --max-results and --no-paginate, "+
			"so that the AWS CLI follows every page and prints the whole listing", k)
}
