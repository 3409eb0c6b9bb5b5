// Package awsapi serves the Amazon WorkMail API over HTTP from an org.Store,
// so that `aws workmail … --endpoint-url` and the AWS SDKs drive wmpolicy as
// they drive WorkMail (SEMANTICS F1–F5).
//
// # Protocol
//
// A Handler speaks awsJson1_1 as WorkMail does: POST /, X-Amz-Target:
// WorkMailService.<Operation>, Content-Type: application/x-amz-json-1.1, a
// JSON body of the model's request shape (workmail-2017-10-01), decoded
// strictly (an unknown, duplicated or wrong-case member is a
// ValidationException naming it). Answers are the model's response shapes,
// timestamps in epoch seconds, empty lists and zero values omitted. Errors
// are {"__type": CODE, "message": …} with HTTP 400, or 403 for
// authentication and access refusals, 413 for a body over the limit (1 MiB
// by default, refused before it is read whole) and 500 for an internal
// failure (never a panic). A refused request changes nothing.
//
// Implemented: every operation of org.Store the model defines — the
// organization, access-control-rule and impersonation-role operations and
// the user operations CreateUser, RegisterToWorkMail, DeregisterFromWorkMail,
// DescribeUser, ListUsers and DeleteUser, and the alias operations
// CreateAlias, DeleteAlias and ListAliases (Operations lists them). Every other
// operation of the model answers UnsupportedOperationException; a target the
// model does not define, UnknownOperationException; a body that is not JSON,
// SerializationException.
//
// # Authentication
//
// Requests are verified with AWS Signature Version 4, as AWS does: the
// Authorization header's credential scope (the key, the date of X-Amz-Date,
// the configured region, service workmail), SignedHeaders including host and
// x-amz-date, X-Amz-Date within 15 minutes of the server's clock, and the
// payload hash computed from the body received. The derived signing key is
// cached per (key, date, region); signatures are compared in constant time.
// Refusals: MissingAuthenticationTokenException (no Authorization),
// IncompleteSignatureException (a malformed one), UnrecognizedClientException
// (an unknown key), InvalidSignatureException (a wrong signature, scope or
// date), AccessDeniedException (a read-only key calling an operation that
// changes state, or a key used on an organization outside its grant).
//
// Keys come from a credentials file (LoadCredentials, mode 0600 enforced):
//
//	{"Keys": [{"AccessKeyId": "WMPEXAMPLEKEY0000001", "SecretAccessKey": "…",
//	           "ReadOnly": false, "Organizations": ["m-…"]}]}
//
// GenerateCredentials writes a file with one new key for a first start.
// Options.InsecureNoAuth turns verification off; the handler then serves
// loopback peers only.
package awsapi
