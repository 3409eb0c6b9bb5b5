package org

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wmpolicy/wmpolicy/internal/fold"
	"github.com/wmpolicy/wmpolicy/policy"
)

// The PostgreSQL backend (SEMANTICS G1–G4): the same records as the state
// directory's files, one row per organization, in the tables of
// pgschema/*.sql, which Open creates and migrates. Every mutation is one
// statement that replaces the row only if it still holds the revision the
// mutation started from and notifies the channel wmpolicy_changes in the same
// transaction; postgres_feed.go follows that channel.

//go:embed pgschema/*.sql
var pgSchema embed.FS

// PostgresSchemaVersion is the newest schema version of the PostgreSQL
// tables this package creates. A database migrated by a newer program
// (a higher version) is refused by Open and never written.
const PostgresSchemaVersion = 1

// pgChannel is the LISTEN/NOTIFY channel of committed changes. A payload is
// "<schema> <organization ID> <revision> <change number>": the channel is
// database-wide, so a listener ignores other schemas' changes.
const pgChannel = "wmpolicy_changes"

// pgCreateLock is the advisory lock key that serializes CreateOrganization
// transactions (so that the ClientToken, alias and directory checks and the
// insert are one step for every process).
const pgCreateLock = 0x776d706f6c696379 // "wmpolicy"

// pgMigrateLock serializes schema migrations of concurrent Opens.
const pgMigrateLock = 0x776d706f6c69636d

type pgBackend struct {
	pool     *pgxpool.Pool
	cfg      *pgxpool.Config
	schema   string // current_schema() of the connections
	readOnly bool

	// Test hooks: feedFault, when set, fails every feed connection attempt
	// with its error; feedPID is the server PID of the feed's connection.
	feedFault atomic.Pointer[func() error]
	feedPID   atomic.Uint32

	stop context.CancelFunc // stops the feed
	ctx  context.Context
	done chan struct{} // closed when the feed has stopped (nil before follow)
}

// openPostgres connects to the database of url, creates or migrates the
// schema (unless readOnly: then it must be current) and returns the backend.
func openPostgres(ctx context.Context, url string, readOnly bool) (*pgBackend, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("org: postgres URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	p := &pgBackend{pool: pool, cfg: cfg, readOnly: readOnly}
	p.ctx, p.stop = context.WithCancel(context.Background())
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&p.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// migrate brings the schema to PostgresSchemaVersion, one transaction under
// an advisory lock, applying each embedded migration the database lacks.
func (p *pgBackend) migrate(ctx context.Context) error {
	names, err := fs.Glob(pgSchema, "pgschema/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("org: postgres: %w", err)
	}
	defer tx.Rollback(ctx)
	var version int
	if p.readOnly {
		err = tx.QueryRow(ctx, "SELECT version FROM wmpolicy_schema_version").Scan(&version)
		if err != nil {
			return fmt.Errorf("org: postgres: reading the schema version (a read-only store needs a database a writer has initialized): %w", err)
		}
	} else {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgMigrateLock)); err != nil {
			return fmt.Errorf("org: postgres: %w", err)
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS wmpolicy_schema_version (version int NOT NULL)"); err != nil {
			return fmt.Errorf("org: postgres: %w", err)
		}
		err = tx.QueryRow(ctx, "SELECT version FROM wmpolicy_schema_version").Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			version = 0
			_, err = tx.Exec(ctx, "INSERT INTO wmpolicy_schema_version VALUES (0)")
		}
		if err != nil {
			return fmt.Errorf("org: postgres: %w", err)
		}
	}
	if version > PostgresSchemaVersion {
		return fmt.Errorf("org: postgres: schema version %d is newer than this program reads (%d); upgrade wmpolicy", version, PostgresSchemaVersion)
	}
	if version == PostgresSchemaVersion {
		return tx.Commit(ctx)
	}
	if p.readOnly {
		return fmt.Errorf("org: postgres: schema version %d is older than this program's (%d); open it once read-write to migrate", version, PostgresSchemaVersion)
	}
	for i, name := range names {
		v := i + 1
		if v <= version {
			continue
		}
		sql, err := pgSchema.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("org: postgres: migration %s: %w", name, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE wmpolicy_schema_version SET version = $1", PostgresSchemaVersion); err != nil {
		return fmt.Errorf("org: postgres: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("org: postgres: %w", err)
	}
	return nil
}

// pgName is how errors name a row of the database.
func (p *pgBackend) pgName(id string) string { return "postgres:" + p.schema + ".wmpolicy_orgs/" + id }

// load reads the keys (creating them on first use) and every organization in
// one consistent snapshot of the database.
func (p *pgBackend) load(ctx context.Context, s *Store, idx map[string]*slot) error {
	if err := p.loadKeys(ctx, s); err != nil {
		return err
	}
	recs, snaps, change, err := p.readAll(ctx, p.pool, nil)
	if err != nil {
		return err
	}
	for i, rec := range recs {
		s.addLoaded(idx, rec, snaps[i])
	}
	s.sync.init(change, s.clock())
	return nil
}

// loadKeys reads the shared keys, inserting fresh ones when there are none
// (the first process wins; every other one reads its keys, G2).
func (p *pgBackend) loadKeys(ctx context.Context, s *Store) error {
	if !p.readOnly {
		k, err := s.newKeys()
		if err != nil {
			return err
		}
		body := keysBody{PageSecret: k.pageKey}
		for _, key := range k.keys {
			body.Keys = append(body.Keys, keyJSON{Id: key.ID, Secret: key.Secret})
		}
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		if _, err := p.pool.Exec(ctx, "INSERT INTO wmpolicy_keys (one, body) VALUES (1, $1) ON CONFLICT (one) DO NOTHING", b); err != nil {
			return fmt.Errorf("org: postgres: %w", err)
		}
	}
	var b []byte
	if err := p.pool.QueryRow(ctx, "SELECT body FROM wmpolicy_keys WHERE one = 1").Scan(&b); err != nil {
		return fmt.Errorf("org: postgres: reading the keys: %w", err)
	}
	name := "postgres:" + p.schema + ".wmpolicy_keys"
	return s.setKeys(name, b)
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// readAll reads every organization in one repeatable-read transaction and
// returns the records (validated; snaps[i] is recs[i] compiled, nil for a
// tombstone) and the highest change number. When have is not nil, a record
// whose revision have reports as already held is skipped undecoded.
func (p *pgBackend) readAll(ctx context.Context, q querier, have func(id string, rev uint64) bool) ([]*record, []*Snapshot, uint64, error) {
	tx, err := q.Begin(ctx)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("org: postgres: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		return nil, nil, 0, fmt.Errorf("org: postgres: %w", err)
	}
	var change int64
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(change), 0) FROM wmpolicy_orgs").Scan(&change); err != nil {
		return nil, nil, 0, fmt.Errorf("org: postgres: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT id, revision, body FROM wmpolicy_orgs")
	if err != nil {
		return nil, nil, 0, fmt.Errorf("org: postgres: %w", err)
	}
	var recs []*record
	var snaps []*Snapshot
	var id string
	var rev int64
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &rev, &body}, func() error {
		if have != nil && have(id, uint64(rev)) {
			return nil
		}
		rec, snap, err := p.decode(id, uint64(rev), body)
		if err != nil {
			return err
		}
		recs, snaps = append(recs, rec), append(snaps, snap)
		return nil
	})
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, nil, 0, err
		}
		return nil, nil, 0, fmt.Errorf("org: postgres: %w", err)
	}
	return recs, snaps, uint64(change), tx.Commit(ctx)
}

// decode validates and compiles one row, as Open does a state file.
func (p *pgBackend) decode(id string, rev uint64, body []byte) (*record, *Snapshot, error) {
	rec, snap, err := decodeOrg(p.pgName(id), id, envelope("Organization", body))
	if err != nil {
		return nil, nil, err
	}
	if rec.Revision != rev {
		return nil, nil, &FileError{File: p.pgName(id), Problem: fmt.Sprintf("the row's revision %d is not its record's %d", rev, rec.Revision)}
	}
	return rec, snap, nil
}

func (p *pgBackend) loadOrg(ctx context.Context, id string) (*record, *Snapshot, error) {
	return p.loadOrgFrom(ctx, p.pool, id)
}

// rowQuerier is a pool or a connection.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func (p *pgBackend) loadOrgFrom(ctx context.Context, q rowQuerier, id string) (*record, *Snapshot, error) {
	var rev int64
	var body []byte
	err := q.QueryRow(ctx, "SELECT revision, body FROM wmpolicy_orgs WHERE id = $1", id).Scan(&rev, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("org: postgres: %w", err)
	}
	return p.decode(id, uint64(rev), body)
}

func (p *pgBackend) revision(ctx context.Context, id string) (uint64, error) {
	var rev int64
	err := p.pool.QueryRow(ctx, "SELECT revision FROM wmpolicy_orgs WHERE id = $1", id).Scan(&rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("org: postgres: %w", err)
	}
	return uint64(rev), nil
}

// rowArgs are the columns of rec's row other than id and change.
func rowArgs(rec *record) (state, aliasFold string, directory *string, body []byte, err error) {
	body, err = json.Marshal(rec)
	if err != nil {
		return "", "", nil, nil, fmt.Errorf("org: encoding organization %s: %w", rec.OrganizationId, err)
	}
	if rec.DirectoryId != "" {
		d := rec.DirectoryId
		directory = &d
	}
	return rec.State, fold.String(rec.Alias), directory, body, nil
}

const pgNotify = `pg_notify('` + pgChannel + `', current_schema() || ' ' || id || ' ' || revision || ' ' || change)`

// commit replaces the row of rec's organization if it still holds revision
// prev, and notifies the change, in one statement (one transaction).
func (p *pgBackend) commit(ctx context.Context, rec *record, prev uint64) error {
	if p.readOnly {
		return errReadOnly
	}
	state, fold, dir, body, err := rowArgs(rec)
	if err != nil {
		return err
	}
	var change int64
	err = p.pool.QueryRow(ctx, `WITH u AS (
	UPDATE wmpolicy_orgs SET revision = $2, change = nextval('wmpolicy_changes'), state = $3, alias_fold = $4, directory_id = $5, body = $6
	WHERE id = $1 AND revision = $7
	RETURNING id, revision, change)
SELECT change, `+pgNotify+`::text FROM u`,
		rec.OrganizationId, int64(rec.Revision), state, fold, dir, body, int64(prev)).Scan(&change, nil)
	if errors.Is(err, pgx.ErrNoRows) {
		return errConflict
	}
	if err != nil {
		return pgError(err)
	}
	return nil
}

// pgError maps a database error of a commit: a unique violation of the
// alias or directory index (possible only through a race the create lock
// does not cover) is the API's error; anything else is wrapped.
func pgError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		switch pe.ConstraintName {
		case "wmpolicy_orgs_alias":
			return policy.Errorf(policy.NameAvailabilityException, "Alias", "the alias is already in use")
		case "wmpolicy_orgs_directory":
			return policy.Errorf(policy.DirectoryInUseException, "DirectoryId", "the directory is already used by another organization")
		case "wmpolicy_orgs_pkey":
			return errConflict
		}
	}
	return fmt.Errorf("org: postgres: %w", err)
}

func (p *pgBackend) createOrg(ctx context.Context, rec *record, now policy.Timestamp) (*tokenRecord, error) {
	if p.readOnly {
		return nil, errReadOnly
	}
	state, fold, dir, body, err := rowArgs(rec)
	if err != nil {
		return nil, err
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgCreateLock)); err != nil {
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	if t := rec.CreateToken; t != nil {
		var old tokenRecord
		var date int64
		err := tx.QueryRow(ctx, "SELECT hash, org_id, date FROM wmpolicy_create_tokens WHERE token = $1", t.ClientToken).Scan(&old.Hash, &old.Id, &date)
		switch {
		case err == nil:
			old.ClientToken, old.Date = t.ClientToken, policy.Timestamp(date)
			if now-old.Date < policy.Timestamp(ClientTokenLifetime) {
				return &old, nil
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return nil, fmt.Errorf("org: postgres: %w", err)
		}
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM wmpolicy_orgs WHERE state = 'Active' AND alias_fold = $1", fold).Scan(&n); err != nil {
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	if n > 0 {
		return nil, policy.Errorf(policy.NameAvailabilityException, "Alias", fmt.Sprintf("the alias %q is already in use", rec.Alias))
	}
	if dir != nil {
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM wmpolicy_orgs WHERE state = 'Active' AND directory_id = $1", *dir).Scan(&n); err != nil {
			return nil, fmt.Errorf("org: postgres: %w", err)
		}
		if n > 0 {
			return nil, policy.Errorf(policy.DirectoryInUseException, "DirectoryId",
				fmt.Sprintf("the directory %s is already used by another organization", *dir))
		}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO wmpolicy_orgs (id, revision, change, state, alias_fold, directory_id, body)
VALUES ($1, $2, nextval('wmpolicy_changes'), $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		rec.OrganizationId, int64(rec.Revision), state, fold, dir, body)
	if err != nil {
		return nil, pgError(err)
	}
	if tag.RowsAffected() == 0 {
		return nil, errConflict
	}
	if t := rec.CreateToken; t != nil {
		if _, err := tx.Exec(ctx, `INSERT INTO wmpolicy_create_tokens (token, hash, org_id, date) VALUES ($1, $2, $3, $4)
ON CONFLICT (token) DO UPDATE SET hash = EXCLUDED.hash, org_id = EXCLUDED.org_id, date = EXCLUDED.date`,
			t.ClientToken, t.Hash, t.Id, int64(t.Date)); err != nil {
			return nil, fmt.Errorf("org: postgres: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, "SELECT "+pgNotify+" FROM wmpolicy_orgs WHERE id = $1", rec.OrganizationId); err != nil {
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("org: postgres: %w", err)
	}
	return nil, nil
}

func (p *pgBackend) close() error {
	p.stop()
	if p.done != nil {
		<-p.done
	}
	p.pool.Close()
	return nil
}

// parseNotification splits a payload of pgChannel.
func parseNotification(payload string) (schema, id string, rev, change uint64, ok bool) {
	f := strings.Split(payload, " ") // the schema's name may hold spaces
	n := len(f)
	if n < 4 {
		return "", "", 0, 0, false
	}
	rev, err1 := strconv.ParseUint(f[n-2], 10, 64)
	change, err2 := strconv.ParseUint(f[n-1], 10, 64)
	if err1 != nil || err2 != nil || !policy.ValidOrganizationID(f[n-3]) {
		return "", "", 0, 0, false
	}
	return strings.Join(f[:n-3], " "), f[n-3], rev, change, true
}
