// Package enforce puts WorkMail access-control rules in front of real mail
// servers: enforcement points that answer a server's question about a login in
// that server's own protocol (SEMANTICS section E).
//
// Every enforcement point decides through a Decider over one Source of
// compiled rules: an OrgSource follows one organization of an org.Store, and
// a FileSource follows a rules file and a users file. The Decider loads one
// Snapshot per question, resolves the login through its directory, denies
// unknown and disabled users and IPv6 clients exactly like a rule's DENY
// (E2), evaluates the rules and logs the decision once; clients never see
// rule names.
package enforce
