package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Kind names what a JSON input is, by the AWS CLI command that prints it, so
// that a file of the wrong kind can be named as such ("this is list-users
// output") rather than reported as an unknown field. The zero Kind is
// [KindUnknown].
type Kind string

// The kinds [SniffKind] recognizes: the AWS CLI outputs and requests wmpolicy
// reads.
const (
	KindUnknown                 Kind = ""
	KindListAccessControlRules  Kind = "aws workmail list-access-control-rules output"
	KindListUsers               Kind = "aws workmail list-users output"
	KindListImpersonationRoles  Kind = "aws workmail list-impersonation-roles output"
	KindGetImpersonationRole    Kind = "aws workmail get-impersonation-role output"
	KindListOrganizations       Kind = "aws workmail list-organizations output"
	KindAccessControlEffect     Kind = "aws workmail get-access-control-effect output"
	KindImpersonationRoleEffect Kind = "aws workmail get-impersonation-role-effect output"
	KindAccessControlRequest    Kind = "a GetAccessControlEffect request"
	KindKeyFile                 Kind = "a wmpolicy token key file"
)

// SniffKind guesses the kind of a JSON object from its top-level member names
// only; it never fails: anything it does not recognize, including input that
// is not a JSON object, is [KindUnknown]. It reads at most the top level of
// data (nested values are skipped, not decoded) and is safe for concurrent use.
func SniffKind(data []byte) Kind {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return KindUnknown
	}
	has := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return KindUnknown
		}
		k, ok := t.(string)
		if !ok {
			return KindUnknown
		}
		has[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return KindUnknown
		}
	}
	switch {
	case has["Users"] && !has["Rules"]:
		return KindListUsers
	case has["OrganizationSummaries"]:
		return KindListOrganizations
	case has["Roles"] && !has["Name"] && !has["Type"]:
		return KindListImpersonationRoles
	case has["ImpersonationRoleId"] && (has["Type"] || has["Rules"]), has["Rules"] && has["Type"]:
		return KindGetImpersonationRole
	case has["Rules"]:
		return KindListAccessControlRules
	case has["Type"] && has["Effect"]:
		return KindImpersonationRoleEffect
	case has["Effect"] && has["MatchedRules"]:
		return KindAccessControlEffect
	case has["IpAddress"] && has["Action"]:
		return KindAccessControlRequest
	case has["Keys"]:
		return KindKeyFile
	}
	return KindUnknown
}

// WrongKind returns a ValidationException naming the mix-up when data is
// recognizably of another kind than want ("this is aws workmail list-users
// output; want aws workmail list-access-control-rules output"), and nil
// otherwise. Decoders call it when strict decoding fails, so that the mix-up
// is reported instead of the unknown fields it causes.
func WrongKind(data []byte, want Kind) *Error {
	got := SniffKind(data)
	if got == KindUnknown || got == want {
		return nil
	}
	return Errorf(ValidationException, "", fmt.Sprintf("this is %s, not %s: was the file given to the wrong flag?", got, want))
}

// OnePage returns the error for a listing that carries a NextToken (SEMANTICS
// D4): it is one page of a longer listing, and reading it as the whole would
// silently drop the rest. kind names the listing. The error is a
// ValidationException at path NextToken whose message says how to get the
// whole listing.
func OnePage(kind Kind) *Error {
	return Errorf(ValidationException, "NextToken", fmt.Sprintf(
		"this %s is one page of a longer listing (it carries a NextToken), not the whole listing: "+
			"run the command again without --max-items, --max-results and --no-paginate, "+
			"so that the AWS CLI follows every page and prints the whole listing", kind))
}

// hasNextToken reports whether a raw NextToken member holds a token: absent,
// null and "" do not (AWS writes null or nothing on the last page).
func hasNextToken(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null")) && !bytes.Equal(t, []byte(`""`))
}

// DecodeListUsers reads `aws workmail list-users` output strictly (SEMANTICS
// D2, D3) without building a directory. A listing with a NextToken is refused
// with [OnePage] (D4); input of another recognizable kind is refused with
// [WrongKind]. Errors are an [ErrorList] with paths; on error the result is
// the zero value.
func DecodeListUsers(data []byte) (ListUsersOutput, error) {
	var out ListUsersOutput
	if err := DecodeStrict(data, &out); err != nil {
		if wk := WrongKind(data, KindListUsers); wk != nil {
			return ListUsersOutput{}, ErrorList{wk}
		}
		return ListUsersOutput{}, err
	}
	if hasNextToken(out.NextToken) {
		return ListUsersOutput{}, ErrorList{OnePage(KindListUsers)}
	}
	return out, nil
}
