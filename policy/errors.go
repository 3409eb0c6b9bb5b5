package policy

import (
	"errors"
	"strings"

	"github.com/wmpolicy/wmpolicy/internal/apipath"
)

// Code is an AWS WorkMail error code, as it appears in the "__type" member of an
// error response (SEMANTICS D1).
type Code string

// The AWS error codes the library produces (SEMANTICS D1).
const (
	ValidationException           Code = "ValidationException"
	InvalidParameterException     Code = "InvalidParameterException"
	LimitExceededException        Code = "LimitExceededException"
	EntityNotFoundException       Code = "EntityNotFoundException"
	EntityStateException          Code = "EntityStateException"
	ResourceNotFoundException     Code = "ResourceNotFoundException"
	OrganizationNotFoundException Code = "OrganizationNotFoundException"
	OrganizationStateException    Code = "OrganizationStateException"
	NameAvailabilityException     Code = "NameAvailabilityException"
	DirectoryInUseException       Code = "DirectoryInUseException"
)

// Sentinel errors, one per [Code], for use with [errors.Is]:
//
//	if errors.Is(err, policy.ErrValidation) { ... }
//
// An [*Error] (or an [ErrorList] holding one) matches the sentinel of its code.
// The sentinels themselves carry no message and no path; never return them.
var (
	ErrValidation           = &Error{Code: ValidationException}
	ErrInvalidParameter     = &Error{Code: InvalidParameterException}
	ErrLimitExceeded        = &Error{Code: LimitExceededException}
	ErrEntityNotFound       = &Error{Code: EntityNotFoundException}
	ErrEntityState          = &Error{Code: EntityStateException}
	ErrResourceNotFound     = &Error{Code: ResourceNotFoundException}
	ErrOrganizationNotFound = &Error{Code: OrganizationNotFoundException}
	ErrOrganizationState    = &Error{Code: OrganizationStateException}
	ErrNameAvailability     = &Error{Code: NameAvailabilityException}
	ErrDirectoryInUse       = &Error{Code: DirectoryInUseException}
)

// Error is a WorkMail API error: an AWS code, a human-readable message and, where
// the error concerns one field of the input, the path of that field in the API's
// PascalCase names, e.g. "Rules[3].IpRanges[17]" (SEMANTICS D1).
//
// Error values are immutable once returned. Use [errors.As] to inspect one and
// [errors.Is] with the sentinels (such as [ErrValidation]) to test its code.
type Error struct {
	Code    Code   // the AWS error code, never empty in a returned error
	Message string // what is wrong, in one sentence without the path
	Path    string // the field path, or "" when the error is not about one field
}

// Errorf returns an *Error with the given code, path and message.
func Errorf(code Code, path, message string) *Error {
	return &Error{Code: code, Path: path, Message: message}
}

// Error formats the error as "Code: Path: Message" (the path is left out when empty).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is an *Error sentinel of the same code: an *Error
// with that code and neither message nor path. It lets errors.Is(err, ErrValidation)
// match every validation error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && t.Message == "" && t.Path == ""
}

// WithPrefix returns a copy of e whose path is prefixed by prefix (joined with "."
// unless the path starts with "[").
func (e *Error) WithPrefix(prefix string) *Error {
	c := *e
	c.Path = apipath.Join(prefix, e.Path)
	return &c
}

// ErrorList is a non-empty list of errors found in one input, in input order.
// Validation functions return every problem they find as an ErrorList rather than
// stopping at the first. errors.Is and errors.As see every element.
type ErrorList []*Error

// Error joins the elements' messages, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the elements, so that errors.Is and errors.As inspect each one.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns l as an error, or nil when l is empty. Use it as the return value of
// a function that collects problems: returning an empty ErrorList directly would
// give a non-nil error.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Errors flattens err into its *Error elements: an ErrorList gives its elements,
// an *Error (also when wrapped) gives itself, and any other non-nil error gives one
// *Error with code ValidationException and err's text. Errors(nil) is nil.
func Errors(err error) []*Error {
	if err == nil {
		return nil
	}
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return []*Error{{Code: ValidationException, Message: err.Error()}}
}

// CodeOf returns the AWS code of err: the code of the first *Error found in it, or
// "" when err holds none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// ValidOrganizationID reports whether id is a well-formed WorkMail organization
// ID: "m-" and 32 lowercase hexadecimal digits (SEMANTICS A13, C4).
func ValidOrganizationID(id string) bool {
	if len(id) != 34 || id[0] != 'm' || id[1] != '-' {
		return false
	}
	for i := 2; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
