// Package org is an embeddable store of Amazon WorkMail organizations: it
// runs the operations of the WorkMail API that wmpolicy covers, with AWS's
// inputs, outputs and errors (SEMANTICS sections A14–A18, B5–B8, C and D), while
// the request path evaluates lock-free against the latest compiled snapshot,
// and it keeps its state durably in a directory.
//
// Rule numbers such as SEMANTICS A7 refer to the project's contract, docs/SEMANTICS.md in
// the module's repository (https://github.com/wmpolicy/wmpolicy/blob/main/docs/SEMANTICS.md).
//
// # Operations
//
// One method per operation, each taking and returning the API's request and
// response shapes (Go structs with the API's field names):
//
//	organizations   CreateOrganization, DeleteOrganization, ListOrganizations, DescribeOrganization
//	access control  PutAccessControlRule, DeleteAccessControlRule, ListAccessControlRules, GetAccessControlEffect
//	roles           CreateImpersonationRole, GetImpersonationRole, UpdateImpersonationRole,
//	                DeleteImpersonationRole, ListImpersonationRoles, GetImpersonationRoleEffect,
//	                AssumeImpersonationRole
//	users           CreateUser, RegisterToWorkMail, DeregisterFromWorkMail, DescribeUser,
//	                ListUsers, DeleteUser (F4); ImportUsers (list-users output), PutUser
//	aliases         CreateAlias, DeleteAlias, ListAliases (F5)
//	migration       Export (and Export.Files), ParseExport, ImportOrganization: an
//	                organization as the AWS CLI prints it, IDs, dates and aliases kept
//
// Every error is a *policy.Error (or a policy.ErrorList of them) with its AWS
// code and field path, matchable with errors.Is against the policy sentinels;
// a failed call changes nothing (D1), with the one exception of an I/O error
// wrapping ErrDurabilityUncertain (see Durable state). Every organization has a directory of
// users, empty until ImportUsers or PutUser fills it; rules and roles name
// users by ID, email, alias or user name and are resolved through it (A18,
// B2). A user change that would leave a stored rule or role naming an unknown
// user is refused. The rule limit (10, default rule included, A14) and the
// role limit (20, B5) are per organization; Options.RuleLimit and
// Options.RoleLimit raise them.
//
// # Snapshots
//
// Each successful mutation compiles the organization it touched into a new
// immutable Snapshot — its accessctl.Policy, its impersonation.Evaluators,
// its directory and a revision number — and publishes it with an atomic
// pointer store. Readers never lock and never see a half-applied change:
//
//   - Store.Snapshot(id) is an atomic load of the index, a lookup in an
//     open-addressing table keyed by the ID's bytes, and an atomic load of the
//     organization's latest snapshot; evaluate its Policy or Role directly
//     (the Policy does not know the organization's roles: for a request
//     through a role, check Snapshot.Role first, B6);
//   - Store.Evaluate(id, request, matched) answers GetAccessControlEffect
//     through that lookup without allocating, and reports the revision used;
//     a request through a role the organization does not have (deleted or
//     never created) is ResourceNotFoundException, so that a rule still
//     naming a deleted role never matches (B6);
//   - a Handle (Store.Handle) skips the lookup: each Handle.Evaluate is one
//     atomic load on top of the compiled evaluator.
//
// Writers are serialized by one mutex per store (over PostgreSQL, by the
// database's revision check instead: see below).
//
// # Durable state
//
// With Options.Dir set the store keeps one file per organization,
// DIR/orgs/<OrganizationId>.json, so that a mutation costs a write of the
// organization it touches, not of the whole store. Each file is versioned
// JSON:
//
//	{"Schema": 1, "Sha256": "<hex of the Organization value's bytes>", "Organization": {…}}
//
// Every mutation writes its organization's file atomically — a temporary file
// in the same directory, fsync, rename over the old file, fsync of the
// directory — before the call returns, so that a crash leaves either the state
// before the mutation or the state after it. A write that fails before the
// rename changes nothing. If only the fsync of the directory fails, after the
// rename, the new file is already what the file system shows and the previous
// version is gone (there is nothing to roll back to): the store then treats
// the mutation as applied — it publishes the new state in memory too, so that
// memory and disk agree — and returns an error wrapping
// ErrDurabilityUncertain (with the output of success, such as a new ID): the
// change holds unless the machine loses power before the directory reaches the
// disk. This is the one exception to "a failed call changes nothing" (Open,
// when the failed fsync follows its creation of keys.json, fails; the next Open
// reads that file).
//
// A deleted organization leaves a small tombstone file (State "Deleted"), so
// that repeating DeleteOrganization keeps answering the same after a restart.
//
// Open loads and fully validates every file: the schema version, the checksum
// (a flipped byte anywhere in the body is detected, even inside a string),
// strict decoding (unknown, duplicated or wrong-case keys), every field as the
// operations check it, the compilation of rules and roles, and the uniqueness
// of aliases and directories across organizations. A file that is empty,
// truncated, corrupt or from a newer schema is refused with a *FileError
// naming it and the problem; Open then fails, and nothing is ever written over
// it. Leftover temporary files of interrupted writes are removed.
//
// The impersonation token keys (impersonation.Key) and the secret that MACs
// pagination tokens live apart, in DIR/keys.json (mode 0600, refused when
// group or others may read it), generated on first Open. DIR/LOCK is locked
// while the store is open, so that two processes never write one directory.
// Options.ReadOnly opens a directory without the lock and without writing
// anything (for reading next to the process that holds it, or on a
// read-only mount). With Options.Dir empty the store lives in memory only,
// with fresh random keys.
//
// # Shared state on PostgreSQL
//
// With Options.Postgres set (a pgx connection URL) the same records live in
// PostgreSQL and any number of processes share them (SEMANTICS G1–G4): each
// mutation is one statement that replaces its organization's row only if it
// still holds the revision the mutation started from (else the organization
// is reloaded and the mutation runs again), CreateOrganization checks its
// ClientToken, alias and directory in the database, and the token keys and
// page secret are one shared row. Every process keeps its own compiled
// snapshots and follows the others' commits through LISTEN/NOTIFY: it
// listens first, resynchronizes, then reports itself fresh; when
// disconnected it keeps answering from its snapshots and reconnects with
// backoff. Store.SyncStatus reports its freshness. Open creates and migrates
// the schema (embedded, versioned). docs/postgres.md has the details.
//
// # Pagination
//
// ListOrganizations and ListImpersonationRoles return opaque NextTokens that
// encode the sort key of the last item returned (never an offset), so that a
// listing continues correctly when items are added or removed between pages.
// Tokens are MACed with the store's page secret over the listing they belong
// to (the operation and the organization); a token that was altered or
// issued for another listing is InvalidParameterException.
package org
