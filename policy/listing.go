package policy

import (
	"bytes"
	"encoding/json"

	"github.com/wmpolicy/wmpolicy/internal/kind"
)

// hasNextToken reports whether a raw NextToken member holds a token: absent,
// null and "" do not (AWS writes null or nothing on the last page).
func hasNextToken(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null")) && !bytes.Equal(t, []byte(`""`))
}

// DecodeListUsers reads `aws workmail list-users` output strictly (SEMANTICS
// D2, D3) without building a directory. A listing with a NextToken is refused
// as one page of a longer listing (D4, a ValidationException at NextToken);
// input of another recognizable kind (another AWS CLI output) is refused as
// that mix-up. Errors are an [ErrorList] with paths; on error the result is
// the zero value.
func DecodeListUsers(data []byte) (ListUsersOutput, error) {
	var out ListUsersOutput
	if err := DecodeStrict(data, &out); err != nil {
		if msg := kind.Mixup(data, kind.ListUsers); msg != "" {
			return ListUsersOutput{}, ErrorList{Errorf(ValidationException, "", msg)}
		}
		return ListUsersOutput{}, err
	}
	if hasNextToken(out.NextToken) {
		return ListUsersOutput{}, ErrorList{Errorf(ValidationException, "NextToken", kind.OnePage(kind.ListUsers))}
	}
	return out, nil
}
