// Package accessctl evaluates Amazon WorkMail access-control rules exactly as
// GetAccessControlEffect does (SEMANTICS section A), offline and fast.
//
// Rule numbers such as SEMANTICS A7 refer to the project's contract, docs/SEMANTICS.md in
// the module's repository (https://github.com/wmpolicy/wmpolicy/blob/main/docs/SEMANTICS.md).
//
// # Semantics
//
// A rule matches a request when every non-empty list of the rule holds:
//
//	list                          holds when
//	IpRanges                      the address is inside at least one range
//	NotIpRanges                   the address is inside none of the ranges
//	Actions / NotActions          the action is / is not in the list
//	UserIds / NotUserIds          the request's user is / is not in the list
//	ImpersonationRoleIds / Not…   the request's role is / is not in the list
//
// A request carries a user or a role, never both; the principal it does not carry
// is in no list (so a user request never matches a rule with ImpersonationRoleIds,
// and always satisfies NotImpersonationRoleIds). The effect is then:
//
//	matching DENY rule?   matching ALLOW rule?   effect   MatchedRules
//	yes                   any                    DENY     the matching DENY rules
//	no                    yes                    ALLOW    the matching ALLOW rules
//	no                    no                     DENY     none (implicit deny)
//
// MatchedRules are in ascending byte order of Name; rule order never matters.
//
// # Use
//
// Decode `aws workmail list-access-control-rules` output with [DecodeRules] (or
// build []Rule in Go), [Compile] it once into an immutable [*Policy], and ask it
// from any number of goroutines:
//
//   - [Policy.Evaluate] is the fast path: effect plus the deciding rules' names
//     appended to a caller-owned slice, no allocation;
//   - [Policy.Effect] returns only the effect;
//   - [Policy.Decide] returns the full [Decision]: every matching rule and the
//     [Reason];
//   - [Policy.GetAccessControlEffect] takes and returns the API's wire shapes.
//
// To change rules, compile a new Policy and publish it with an atomic pointer
// swap; a Policy never changes after Compile.
//
// With a [policy.Directory] in [Options], users may be named by ID, email, alias
// or user name in rules and requests (A18): all are resolved to the user ID, so
// naming one user two ways cannot bypass a NotUserIds list.
//
// Bad input is never dropped: every problem in a rules file is reported with its
// field path and AWS error code as a [policy.ErrorList].
package accessctl
