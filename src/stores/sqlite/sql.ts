/** The file a connection has open as its main database, as SQLite names it ('' for memory or temp). */
export const MAIN_FILE_SQL = `SELECT file FROM pragma_database_list WHERE name = 'main'`

/** The default table name, the one Go's sqlite3store reads. */
export const DEFAULT_TABLE = 'sessions'

// A bare identifier is the only table name we splice into SQL; anything else is refused.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/** Throws a RangeError naming `tableName` unless it is a plain SQL identifier SQLite does not reserve. */
export function checkTableName(name: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name) || /^sqlite_/i.test(name)) {
    throw new RangeError(
      `SQLiteStore: tableName must match ${IDENTIFIER} and not start with "sqlite_", got ${JSON.stringify(name)}`,
    )
  }
  return name
}

/** The expiry index name for a table: `sessions_expiry_idx` for the default, as sqlite3store's README. */
export function indexName(table: string): string {
  return `${table}_expiry_idx`
}

/** The exact schema of Go's sqlite3store for `table` (two statements, each idempotent). */
export function schemaSQL(table: string): { table: string; index: string } {
  return {
    table: `CREATE TABLE IF NOT EXISTS ${table} (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)`,
    index: `CREATE INDEX IF NOT EXISTS ${indexName(table)} ON ${table}(expiry)`,
  }
}

/** The table beside `table` that remembers recently renewed or destroyed keys; Go never reads it. */
export function endedTableName(table: string): string {
  return `${table}_ended`
}

/** The schema of the ended-keys table (two idempotent statements), expiry as in `table`. */
export function endedSchemaSQL(table: string): { table: string; index: string } {
  const ended = endedTableName(table)
  return {
    table: `CREATE TABLE IF NOT EXISTS ${ended} (token TEXT PRIMARY KEY, reason TEXT NOT NULL, expiry REAL NOT NULL)`,
    index: `CREATE INDEX IF NOT EXISTS ${indexName(ended)} ON ${ended}(expiry)`,
  }
}

/**
 * Every statement the store runs. Liveness is `julianday('now') < expiry` and cleanup removes
 * `expiry < julianday('now')`, both strict as in sqlite3store, so Go and sessionkit agree on
 * the same file. Expiries are bound as Go's time string and converted by SQLite itself, so the
 * stored REAL is the one Go's `REPLACE INTO … julianday($3)` writes.
 */
export function statementsSQL(table: string) {
  const live = `julianday('now') < expiry`
  return {
    find: `SELECT data FROM ${table} WHERE token = ? AND ${live}`,
    upsert: `INSERT INTO ${table} (token, data, expiry) VALUES (?, ?, julianday(?)) ON CONFLICT(token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
    // A brand-new token may take over a row only once that row has expired.
    insert: `INSERT INTO ${table} (token, data, expiry) VALUES (?, ?, julianday(?)) ON CONFLICT(token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry WHERE NOT (julianday('now') < ${table}.expiry)`,
    update: `UPDATE ${table} SET data = ?, expiry = julianday(?) WHERE token = ?`,
    // Compare-and-set on the whole blob: a Go program's REPLACE INTO changes it too, so a merge
    // notices Go's writes as it notices its own.
    replace: `UPDATE ${table} SET data = ?, expiry = julianday(?) WHERE token = ? AND CAST(data AS BLOB) = ? AND ${live}`,
    touch: `UPDATE ${table} SET expiry = julianday(?) WHERE token = ? AND ${live}`,
    delete: `DELETE FROM ${table} WHERE token = ?`,
    all: `SELECT token, data FROM ${table} WHERE ${live}`,
    // Bounded by rowid through the expiry index, so one batch holds the write lock briefly.
    deleteBatch: `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expiry < julianday('now') LIMIT ?)`,
    hasObject: `SELECT 1 AS found FROM sqlite_master WHERE type = ? AND name = ?`,
    // Ending a session: the row goes and, when it was live, its key is remembered in the same
    // savepoint, so no reader ever sees neither.
    endDelete: `DELETE FROM ${table} WHERE token = ? RETURNING data, ${live} AS live`,
    savepoint: 'SAVEPOINT sessionkit_end',
    release: 'RELEASE sessionkit_end',
    rollbackTo: 'ROLLBACK TO sessionkit_end',
    // The writes of one event-loop turn share a transaction; IMMEDIATE takes the write lock (or
    // waits the busy timeout for it) before the first statement, never midway.
    begin: 'BEGIN IMMEDIATE',
    commitTransaction: 'COMMIT',
    rollback: 'ROLLBACK',
  }
}

/** The owner-index table beside `table`; Go never reads it, but its deletes reach it by trigger. */
export function ownersTableName(table: string): string {
  return `${table}_owners`
}

/**
 * The owner index: a table keyed by token, an index by owner, and a trigger that removes a
 * token's entry whenever its session row is deleted, by anyone (Go's Destroy and cleanup too),
 * in the deleting transaction. The sessions table itself stays Go's.
 */
export function ownersSchemaSQL(table: string): string[] {
  const owners = ownersTableName(table)
  return [
    `CREATE TABLE IF NOT EXISTS ${owners} (token TEXT PRIMARY KEY, owner TEXT NOT NULL, created INTEGER NOT NULL, seen INTEGER NOT NULL, user_agent TEXT, ip TEXT)`,
    `CREATE INDEX IF NOT EXISTS ${owners}_owner_idx ON ${owners}(owner)`,
    `CREATE TRIGGER IF NOT EXISTS ${owners}_follow AFTER DELETE ON ${table} BEGIN DELETE FROM ${owners} WHERE token = OLD.token; END`,
  ]
}

/** The owner index's statements; times are ms since the epoch, expiry as the sessions table's. */
export function ownersStatementsSQL(table: string) {
  const owners = ownersTableName(table)
  return {
    set: `INSERT INTO ${owners} (token, owner, created, seen, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(token) DO UPDATE SET owner = excluded.owner, created = excluded.created, seen = excluded.seen, user_agent = excluded.user_agent, ip = excluded.ip`,
    unset: `DELETE FROM ${owners} WHERE token = ?`,
    // Joined with the live sessions, so an expired row not yet swept is never listed.
    list: `SELECT o.token, o.created, o.seen, o.user_agent, o.ip, (s.expiry - 2440587.5) * 86400000.0 AS expires FROM ${owners} o JOIN ${table} s ON s.token = o.token WHERE o.owner = ? AND julianday('now') < s.expiry`,
    seen: `UPDATE ${owners} SET seen = ? WHERE token = ?`,
  }
}

/** The statements on the ended-keys table, prepared apart so a missing one fails only them. */
export function endedStatementsSQL(table: string) {
  const ended = endedTableName(table)
  const live = `julianday('now') < expiry`
  return {
    mark: `INSERT INTO ${ended} (token, reason, expiry) VALUES (?, ?, julianday(?)) ON CONFLICT(token) DO UPDATE SET reason = excluded.reason, expiry = excluded.expiry`,
    find: `SELECT reason FROM ${ended} WHERE token = ? AND ${live}`,
    deleteBatch: `DELETE FROM ${ended} WHERE rowid IN (SELECT rowid FROM ${ended} WHERE expiry < julianday('now') LIMIT ?)`,
  }
}

// SQLite's date functions accept years 0000 to 9999 only; outside them julianday() is NULL.
const MIN_MS = Date.parse('0000-01-01T00:00:00.000Z')
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z')

/**
 * Formats `expiry` as Go's `expiry.UTC().Format("2006-01-02T15:04:05.999")`: UTC, no zone, the
 * milliseconds with trailing zeros trimmed and the dot dropped when they are zero. Instants
 * beyond SQLite's year range are clamped to its ends (still expired, or still far future).
 */
export function goTimeString(expiry: Date): string {
  let ms = expiry.getTime()
  if (Number.isNaN(ms)) throw new TypeError('SQLiteStore: expiry is an invalid Date')
  if (ms < MIN_MS) ms = MIN_MS
  else if (ms > MAX_MS) ms = MAX_MS
  const iso = new Date(ms).toISOString() // YYYY-MM-DDTHH:MM:SS.sssZ for years 0000..9999
  const frac = iso.slice(20, 23)
  if (frac === '000') return iso.slice(0, 19)
  if (frac.endsWith('00')) return iso.slice(0, 21)
  if (frac.endsWith('0')) return iso.slice(0, 22)
  return iso.slice(0, 23)
}
