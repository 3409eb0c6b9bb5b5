// Package impersonation evaluates Amazon WorkMail impersonation roles exactly as
// GetImpersonationRoleEffect does (SEMANTICS section B), offline and fast, and
// reads and writes the roles in the shapes the AWS CLI prints.
//
// Rule numbers such as SEMANTICS A7 refer to the project's contract, docs/SEMANTICS.md in
// the module's repository (https://github.com/wmpolicy/wmpolicy/blob/main/docs/SEMANTICS.md).
//
// # Semantics
//
// A role has a type (FULL_ACCESS or READ_ONLY) and up to ten rules. A rule
// matches a target user when
//
//	TargetUsers     absent, or the user is in it
//	NotTargetUsers  absent, or the user is not in it
//
// both hold; a rule with neither list matches every user (B3). Then (B4):
//
//	matching DENY rule?   matching ALLOW rule?   Effect   MatchedRules
//	yes                   any                    DENY     the matching DENY rules
//	no                    yes                    ALLOW    the matching ALLOW rules
//	no                    no                     DENY     none (implicit deny)
//
// MatchedRules are {ImpersonationRuleId, Name} in the role's rule order, and
// the answer always carries the role's Type, so that a READ_ONLY role can be
// held to reads. A role without rules denies every user.
//
// With a [policy.Directory], the target user and the entries of TargetUsers and
// NotTargetUsers may name a user by ID, email or alias, or user name (emails and
// user names case-insensitively); all are resolved to the user ID before they
// are compared, so that naming one user two ways can never bypass a
// NotTargetUsers list (B2). An unknown target is an EntityNotFoundException, a
// target whose state is not ENABLED an EntityStateException; an unknown entry
// in a rule is an EntityNotFoundException when the role is compiled. Without a
// directory, identifiers are compared as exact strings.
//
// # Use
//
// Decode `aws workmail get-impersonation-role` output with [DecodeRole] (or
// build a [Role] in Go), [Compile] it once into an immutable [*Evaluator], and
// ask it from any number of goroutines:
//
//   - [Evaluator.Evaluate] is the fast path: type, effect and the deciding
//     rules appended to a caller-owned slice, no allocation;
//   - [Evaluator.Effect] returns only the effect;
//   - [Evaluator.Decide] returns the full [Decision]: every matching rule, the
//     [Reason] and the resolved user ID;
//   - [Evaluator.GetImpersonationRoleEffect] takes and returns the API's wire
//     shapes.
//
// To change a role, compile a new Evaluator and publish it with an atomic
// pointer swap; an Evaluator never changes after Compile.
//
// Bad input is never dropped: [ValidateRole], [DecodeRole] and
// [DecodeRoleList] report every problem with its field path
// ("Rules[2].TargetUsers[0]") and AWS error code as a [policy.ErrorList], and
// decoding is strict (an unknown, duplicated or wrong-case key is an error).
// `aws workmail list-impersonation-roles` output is read by [DecodeRoleList]
// and written by [EncodeRoleList].
//
// [Role] and [Rule] are plain data, owned by their caller; every function of
// this package is safe for concurrent use, and a compiled [Evaluator] is
// immutable.
package impersonation
