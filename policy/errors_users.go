package policy

// The error codes of the user operations (SEMANTICS F4), beyond D1's list:
// the model's own names for the refusals of CreateUser, RegisterToWorkMail,
// DeregisterFromWorkMail and DeleteUser.
const (
	// MailDomainNotFoundException: RegisterToWorkMail with an email whose
	// domain is not one of the organization's (F4).
	MailDomainNotFoundException Code = "MailDomainNotFoundException"
	// EmailAddressInUseException: RegisterToWorkMail with an email that
	// already names another user (F4).
	EmailAddressInUseException Code = "EmailAddressInUseException"
	// EntityAlreadyRegisteredException: RegisterToWorkMail of a user that is
	// already ENABLED (F4).
	EntityAlreadyRegisteredException Code = "EntityAlreadyRegisteredException"
)

// Sentinels of the user operations' codes, for [errors.Is] (see [ErrValidation]).
var (
	ErrMailDomainNotFound      = &Error{Code: MailDomainNotFoundException}
	ErrEmailAddressInUse       = &Error{Code: EmailAddressInUseException}
	ErrEntityAlreadyRegistered = &Error{Code: EntityAlreadyRegisteredException}
)
