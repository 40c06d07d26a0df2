/** The default table name, the one Go's postgresstore and pgxstore read. */
export const DEFAULT_POSTGRES_TABLE = 'sessions'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** The exact schema of Go's postgresstore for `table` (two idempotent statements). */
export function postgresSchemaSQL(table: string): { table: string; index: string } {
  return {
    table: `CREATE TABLE IF NOT EXISTS ${table} (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
    index: `CREATE INDEX IF NOT EXISTS ${indexName(table)} ON ${table} (expiry)`,
  }
}

/** The table beside `table` (same schema) that remembers recently renewed or destroyed keys; Go never reads it. */
export function postgresEndedTableName(table: string): string {
  return `${table}_ended`
}

/** The schema of the ended-keys table (two idempotent statements). */
export function postgresEndedSchemaSQL(table: string): { table: string; index: string } {
  const ended = postgresEndedTableName(table)
  return {
    table: `CREATE TABLE IF NOT EXISTS ${ended} (token TEXT PRIMARY KEY, reason TEXT NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
    index: `CREATE INDEX IF NOT EXISTS ${indexName(ended)} ON ${ended} (expiry)`,
  }
}

/** The owner-index table beside `table`; Go never reads it, but its deletes reach it by trigger. */
export function postgresOwnersTableName(table: string): string {
  return `${table}_owners`
}

/**
 * The owner index: a table keyed by token, an index by owner, and a row trigger that removes a
 * token's entry whenever its session row is deleted, by anyone (Go's Destroy and cleanup too).
 */
export function postgresOwnersSchemaSQL(table: string): string[] {
  const owners = postgresOwnersTableName(table)
  const base = table.slice(table.lastIndexOf('.') + 1)
  const fn = `${table}_owners_follow`
  return [
    `CREATE TABLE IF NOT EXISTS ${owners} (token TEXT PRIMARY KEY, owner TEXT NOT NULL, created TIMESTAMPTZ NOT NULL, seen TIMESTAMPTZ NOT NULL, user_agent TEXT, ip TEXT)`,
    `CREATE INDEX IF NOT EXISTS ${base}_owners_owner_idx ON ${owners} (owner)`,
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM ${owners} WHERE token = OLD.token; RETURN OLD; END $$`,
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = '${base}_owners_follow' AND tgrelid = '${table}'::regclass) THEN CREATE TRIGGER ${base}_owners_follow AFTER DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}(); END IF; END $$`,
  ]
}

// The index lives in the table's schema, so its name is never qualified.
/** The expiry index of `table`, in its schema. */
export function indexName(table: string): string {
  return `${table.slice(table.lastIndexOf('.') + 1)}_expiry_idx`
}

export function checkTableName(name: string): string {
  const parts = typeof name === 'string' ? name.split('.') : []
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new RangeError(
      `PostgresStore: tableName must be an identifier matching ${IDENTIFIER}, optionally schema-qualified, got ${JSON.stringify(name)}`,
    )
  }
  return name
}

// Liveness and cleanup use the database clock, strict on both sides, as postgresstore.
export function statementsSQL(t: string) {
  const live = 'current_timestamp < expiry'
  const ended = postgresEndedTableName(t)
  const owners = postgresOwnersTableName(t)
  return {
    find: `SELECT data FROM ${t} WHERE token = $1 AND ${live}`,
    upsert: `INSERT INTO ${t} (token, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`,
    // A brand-new token may take over a row only once that row has expired.
    insert: `INSERT INTO ${t} AS s (token, data, expiry) VALUES ($1, $2, $3) ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry WHERE NOT (current_timestamp < s.expiry)`,
    update: `UPDATE ${t} SET data = $2, expiry = $3 WHERE token = $1`,
    touch: `UPDATE ${t} SET expiry = $2 WHERE token = $1 AND ${live}`,
    // Compare-and-set on the whole blob, so a merge notices every other writer, Go's included.
    replace: `UPDATE ${t} SET data = $2, expiry = $3 WHERE token = $1 AND data = $4 AND ${live}`,
    // One statement, so the row's removal and the key's memory commit together.
    end: `WITH gone AS (DELETE FROM ${t} WHERE token = $1::text RETURNING data, ${live} AS live), mark AS (INSERT INTO ${ended} (token, reason, expiry) SELECT $1::text, $2::text, $3::timestamptz FROM gone WHERE live ON CONFLICT (token) DO UPDATE SET reason = EXCLUDED.reason, expiry = EXCLUDED.expiry) SELECT data FROM gone WHERE live`,
    ended: `SELECT reason FROM ${ended} WHERE token = $1 AND ${live}`,
    deleteEndedBatch: `DELETE FROM ${ended} WHERE token IN (SELECT token FROM ${ended} WHERE expiry < current_timestamp LIMIT $1)`,
    setOwner: `INSERT INTO ${owners} (token, owner, created, seen, user_agent, ip) VALUES ($1, $2, $3, $3, $4, $5) ON CONFLICT (token) DO UPDATE SET owner = EXCLUDED.owner, created = EXCLUDED.created, seen = EXCLUDED.seen, user_agent = EXCLUDED.user_agent, ip = EXCLUDED.ip`,
    unsetOwner: `DELETE FROM ${owners} WHERE token = $1`,
    // Joined with the live sessions, so an expired row not yet swept is never listed.
    listOwned: `SELECT o.token, o.created, o.seen, o.user_agent, o.ip, s.expiry FROM ${owners} o JOIN ${t} s ON s.token = o.token WHERE o.owner = $1 AND current_timestamp < s.expiry`,
    touchOwned: `UPDATE ${owners} SET seen = $2 WHERE token = $1`,
    delete: `DELETE FROM ${t} WHERE token = $1`,
    all: `SELECT token, data FROM ${t} WHERE ${live}`,
    deleteBatch: `DELETE FROM ${t} WHERE token IN (SELECT token FROM ${t} WHERE expiry < current_timestamp LIMIT $1)`,
    exists: 'SELECT to_regclass($1) IS NOT NULL AS present',
  }
}

export type StatementName = keyof ReturnType<typeof statementsSQL>
