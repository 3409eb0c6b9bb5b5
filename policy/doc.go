// Package policy holds the vocabulary shared by wmpolicy's packages: the
// [Effect] of rules and decisions, WorkMail API errors with their AWS code and
// field path ([Error], [ErrorList]), strict JSON decoding of the API's shapes
// ([DecodeStrict]), [Timestamp]s as the AWS CLI prints them, and the user
// [Directory] that resolves IDs, emails, aliases and user names
// ([MemDirectory], built from `aws workmail list-users` output by [DecodeUsers]).
//
// Everything here is immutable once built and safe for concurrent use.
package policy
