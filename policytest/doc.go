// Package policytest is a property-testing kit for code that uses wmpolicy:
// rapid generators ([*rapid.Generator]) of every input the WorkMail
// access-control and impersonation APIs take, valid and invalid, and ready-made
// properties that check your own code against the library.
//
// Rule numbers such as SEMANTICS A7 refer to the project's contract, docs/SEMANTICS.md in
// the module's repository (https://github.com/wmpolicy/wmpolicy/blob/main/docs/SEMANTICS.md).
//
// # Generators
//
// Valid inputs, biased to the edges that break code:
//
//   - addresses and ranges: [Range], [RangeString], [RangeFamily] (nested,
//     adjacent, overlapping and duplicate prefixes), [Addr], [AddrNear] and
//     [BoundaryAddrs] (network, broadcast, ±1);
//   - access-control rules: [RuleName], [Description], [Rule], [Rules] with the
//     knobs of [RuleOptions] up to the model's maxima ([MaxRuleOptions]);
//   - requests: [Request], [RequestFor] (requests that hit and miss given rules),
//     [RequestMatching] (requests aimed to match one rule), with principals
//     that are one character away from named ones ([NearMiss]);
//   - directories and users: [Directory], [NameOf], [UserName], [TargetUser];
//   - impersonation roles: [Role] with [RoleOptions];
//   - reloads: [Mutate] (add, remove or edit one rule, with the direction in
//     which the change may move decisions).
//
// Invalid inputs, each an [Invalid] value that carries the SEMANTICS rule it
// breaks, the error code and the field path the library rejects it with:
// [InvalidRange], [InvalidAddr], [InvalidAction], [InvalidRequest],
// [InvalidRequestInput], [InvalidRule], [InvalidRules], [InvalidRulesJSON],
// [InvalidRole], [InvalidRoleJSON] and [InvalidTargetUser].
//
// Generators draw from a small universe on purpose: addresses cluster in a few
// anchor networks ([Anchors]) and principals come from short pools ([UserIDs],
// [RoleIDs]), so that random requests hit random rules often and every branch
// of the semantics is exercised. Every generator documents what it covers and
// how it shrinks; in general values shrink toward fewer rules, shorter lists,
// the first pool entries and the first listed edge case.
//
// # Properties
//
// A property is a func(*rapid.T), so each runs under [rapid.Check] in a test
// and under [rapid.MakeFuzz] in a fuzz target:
//
//	func TestMyGate(t *testing.T) {
//		rapid.Check(t, policytest.Agrees(nil, myDecide))
//	}
//
//	func FuzzMyGate(f *testing.F) {
//		policytest.Fuzz(f, policytest.Agrees(nil, myDecide)) // = f.Fuzz(rapid.MakeFuzz(…)), with seeds
//	}
//
// [Agrees]: your decision function answers as the library does for every
// generated rule list and request. [Monotone]: after a rule change that may only
// grant (or only remove) access, your function never moves a decision the
// other way. [Reloads]: after each of a chain of rule changes, your stateful
// function (a cache, a compiled policy it swaps) answers for the new rules, with
// no stale answer left behind. [FailsClosed]: every invalid request is an error
// or a DENY, never an ALLOW. [Validates] and [ValidatesJSON]: your loader
// accepts every valid rule list (or rules file) and refuses every invalid one.
// [RoleAgrees]: your impersonation check answers as the library does. [AgreesWithDirectory]: the same as
// Agrees when users are named by ID, email or user name (A18). The module's
// examples/proptest directory runs Agrees, Reloads, Monotone and FailsClosed
// on a caching, hot-reloading login gate.
//
// Generators and properties are safe for concurrent use, as rapid generators are.
package policytest
