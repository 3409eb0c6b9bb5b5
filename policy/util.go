package policy

import (
	"encoding/json"
	"errors"
)

func unquote(b []byte, s *string) error {
	if err := json.Unmarshal(b, s); err != nil {
		return &Error{Code: ValidationException, Message: "invalid JSON string"}
	}
	return nil
}

func asError(err error, target **Error) bool { return errors.As(err, target) }
