-- wmpolicy schema version 1: the organization state shared by every process
-- (SEMANTICS G1-G4). Created by org.Open; never edit a released migration,
-- add the next numbered file.

-- One row per organization, live or deleted (a tombstone). body is the
-- organization's record, the JSON of a state directory's orgs/<id>.json
-- "Organization" member; revision, state, alias_fold and directory_id are
-- copies the constraints and the revision check need.
CREATE TABLE wmpolicy_orgs (
	id           text PRIMARY KEY,
	revision     bigint NOT NULL CHECK (revision >= 1),
	change       bigint NOT NULL,
	state        text NOT NULL CHECK (state IN ('Active', 'Deleted')),
	alias_fold   text NOT NULL,
	directory_id text,
	body         bytea NOT NULL
);

-- C1: an alias (case-folded) and a directory belong to at most one live
-- organization.
CREATE UNIQUE INDEX wmpolicy_orgs_alias ON wmpolicy_orgs (alias_fold) WHERE state = 'Active';
CREATE UNIQUE INDEX wmpolicy_orgs_directory ON wmpolicy_orgs (directory_id)
	WHERE state = 'Active' AND directory_id IS NOT NULL;

-- CreateOrganization ClientTokens (C1): the latest use of each token.
CREATE TABLE wmpolicy_create_tokens (
	token  text PRIMARY KEY,
	hash   text NOT NULL,
	org_id text NOT NULL,
	date   bigint NOT NULL
);

-- The token keys and the page secret (G2): one row, the JSON of keys.json's
-- "Keys" member.
CREATE TABLE wmpolicy_keys (
	one  int PRIMARY KEY CHECK (one = 1),
	body bytea NOT NULL
);

-- The store-wide change number: every commit takes the next one, so a
-- process's staleness is one number (the last change it applied).
CREATE SEQUENCE wmpolicy_changes;
