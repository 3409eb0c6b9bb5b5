// Package analysis answers questions about a whole set of WorkMail
// access-control rules (SEMANTICS section A) exactly, each answer backed by
// concrete requests: why one request gets its effect ([Analyzer.Explain]),
// what is wrong with a rule set ([Analyzer.Audit]), which requests change
// effect between two rule sets ([Diff]), and what a principal may do or who
// may make a request ([Analyzer.WhoCanPrincipal], [Analyzer.WhoCanRequest]).
//
// # Exactness without enumeration
//
// The request space of section A is finite in structure. Cut the IPv4 space
// into elementary intervals at every boundary of every range of every rule
// involved (cidr.Build); take the principal classes — each user ID and role ID
// some rule names, plus "any other user" and "any other role" (with a
// directory, user entries are resolved first, A18); and the seven actions
// (roles only with EWS, A12). Within one cell (interval × principal class ×
// action) every rule either matches every request or none, so one bitset AND
// per cell decides the cell for every address in it. Each question is answered
// by streaming the cells once — never materializing them, never enumerating
// addresses — and the intervals with the same outcome are merged into
// address sets ([AddrSet]) across the whole space, so that an answer reads
// "everywhere except 198.51.100.0/24", not as one region per interval. A cell depends on its interval only through the set of rules whose
// address conditions hold there, so each distinct such set is decided once and
// the intervals that share it reuse the answer.
//
// The largest rule sets WorkMail allows (10 rules, each with 1024 IpRanges and
// 1024 NotIpRanges; two of them in a diff; 10 users and 10 roles) give about
// 80,000 intervals and 7 million cells. Every call that decides cells takes a
// context.Context and a cell budget (Options.MaxCells): a call that would
// exceed it returns a *BudgetError and no answer, never a partial answer
// presented as complete.
//
// # Principals
//
// "Any other user" stands for every user no rule names: without a directory,
// every such user ID (witness requests use a made-up ID that no rule names);
// with a directory (Options.Directory), the directory's users that no rule
// names — and the class is left out when every user is named. "Any other
// role" likewise, with Options.Roles as the list of roles the organization
// has.
//
// # Witnesses
//
// Findings and diff regions carry witness requests (accessctl.Request) that
// show what they claim when evaluated by accessctl.Policy: the package's
// tests replay every witness through accessctl and through the reference
// evaluator, and check diff, audit and who-can answers against exhaustive
// evaluation of small universes.
//
// Unlike accessctl.Compile, [New] accepts rule entries naming users the
// directory does not know and roles Options.Roles does not list: they name
// nobody, as after the user or role was deleted, and Audit reports each.
//
// # Policy tests
//
// [DecodeTestCases] and [Analyzer.RunTests] check written expectations — a
// request, the effect it must get, optionally the rules that must decide it
// or the error it must be refused with — and measure which rules and which
// conditions the cases exercised ([Coverage]), as `opa test --coverage`
// does for OPA policies.
//
// All types are immutable once returned; an Analyzer is safe for concurrent
// use.
package analysis
