import { existsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { StoreError } from '../../errors.js'
import { toBytes as bytes } from '../../stores/kit/bytes.js'
import { defaultSQLiteDriver, openSQLiteDatabase } from '../../stores/sqlite/driver.js'
import {
  openSQLiteStore,
  type SQLiteDatabase,
  SQLiteStore,
  type SQLiteValue,
} from '../../stores/sqlite/index.js'
import { checkTableName, endedTableName } from '../../stores/sqlite/sql.js'
import {
  type Backend,
  listedKeys,
  revokeLive,
  type StoredSession,
  type StoreStats,
  writeThrough,
} from '../backend.js'

// Julian day of the Unix epoch: SQLite's REAL expiry to ms and back.
const EPOCH_JD = 2440587.5
const ms = (column: string): string => `(julianday(${column}) - ${EPOCH_JD}) * 86400000`

interface Row {
  token: string
  data: unknown
  ms: number
  owner?: string | null
}

interface PagedRow extends Row {
  rid: number
  expiry: number
}

// Rows a page: a reader that stops early (a closed pipe) stops the reading too.
const PAGE = 500

/**
 * Opens the SQLite file at `path` for the command line: an existing file only (a typo must not
 * create an empty database) unless `create` (import), which makes a missing or empty file as
 * {@link openSQLiteStore} does (WAL, schema); `busyTimeout` ms of waiting for another process's
 * lock (the CLI may block; an app's event loop must not).
 */
export function openSQLiteBackend(
  path: string,
  options: { table: string; create: boolean; busyTimeout: number },
): Backend {
  const table = checkTableName(options.table)
  const found = existsSync(path) ? statSync(path) : undefined
  if (found?.isDirectory() === true) {
    throw new StoreError(`${JSON.stringify(path)} is a directory, not a SQLite file`)
  }
  if (found === undefined && !options.create) {
    throw new StoreError(`no SQLite file at ${JSON.stringify(path)} (only import creates one)`)
  }
  // A touched, empty file too: otherwise it would stay in the rollback journal mode.
  if (options.create && (found === undefined || found.size === 0)) {
    const folder = dirname(path)
    if (!existsSync(folder)) {
      throw new StoreError(
        `cannot create ${JSON.stringify(path)}: the folder ${JSON.stringify(folder)} does not exist (create it first)`,
      )
    }
    // The store's own way of making a file; the thread it would start is of no use to one import.
    openSQLiteStore(path, {
      tableName: table,
      cleanupInterval: 0,
      checkpointThread: false,
      busyTimeout: options.busyTimeout,
    }).close()
  }
  const db = openSQLiteDatabase(path, defaultSQLiteDriver())
  db.exec(`PRAGMA busy_timeout = ${options.busyTimeout}`)
  const has = (name: string): boolean =>
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) != null
  if (!options.create && !has(table)) {
    db.close()
    throw new StoreError(
      `${JSON.stringify(path)} has no table "${table}": is this the sessions file (or pass --table)?`,
    )
  }
  const store = new SQLiteStore(db, {
    tableName: table,
    cleanupInterval: 0,
    createTable: options.create,
  })
  return new SQLiteBackend(path, db, store, table, has)
}

class SQLiteBackend implements Backend {
  readonly name: string
  readonly #path: string
  readonly #db: SQLiteDatabase
  readonly #store: SQLiteStore
  readonly #table: string
  readonly #has: (name: string) => boolean

  constructor(
    path: string,
    db: SQLiteDatabase,
    store: SQLiteStore,
    table: string,
    has: (name: string) => boolean,
  ) {
    this.name = `sqlite:${path}`
    this.#path = path
    this.#db = db
    this.#store = store
    this.#table = table
    this.#has = has
  }

  get #owners(): string | undefined {
    const owners = `${this.#table}_owners`
    return this.#has(owners) ? owners : undefined
  }

  async stats(): Promise<StoreStats> {
    const t = this.#table
    const row = this.#db
      .prepare(
        `SELECT COUNT(*) AS rows, COALESCE(SUM(julianday('now') < expiry), 0) AS live, COALESCE(SUM(length(CAST(data AS BLOB))), 0) AS bytes, MIN(${ms('expiry')}) AS oldest, MAX(${ms('expiry')}) AS newest FROM ${t}`,
      )
      .get() as {
      rows: number
      live: number
      bytes: number
      oldest: number | null
      newest: number | null
    }
    const codecs: Record<string, number> = {}
    const firsts = this.#db
      .prepare(
        `SELECT substr(CAST(data AS BLOB), 1, 1) = x'7b' AS json, COUNT(*) AS n FROM ${t} GROUP BY 1`,
      )
      .all() as { json: number; n: number }[]
    for (const f of firsts) codecs[f.json === 1 ? 'json' : 'gob'] = Number(f.n)
    const stats: StoreStats = {
      store: this.name,
      rows: Number(row.rows),
      live: Number(row.live),
      expired: Number(row.rows) - Number(row.live),
      dataBytes: Number(row.bytes),
      codecs,
    }
    if (row.oldest !== null) stats.oldestExpiry = new Date(Math.round(row.oldest))
    if (row.newest !== null) stats.newestExpiry = new Date(Math.round(row.newest))
    const owners = this.#owners
    if (owners !== undefined) {
      const o = this.#db
        .prepare(`SELECT COUNT(DISTINCT owner) AS owners, COUNT(*) AS sessions FROM ${owners}`)
        .get() as { owners: number; sessions: number }
      stats.owners = { owners: Number(o.owners), sessions: Number(o.sessions) }
    }
    const size = (file: string): number => (existsSync(file) ? statSync(file).size : 0)
    const mode = this.#db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }
    stats.file = {
      path: this.#path,
      bytes: size(this.#path),
      walBytes: size(`${this.#path}-wal`),
      journalMode: mode.journal_mode,
    }
    return stats
  }

  async *list(options: {
    owner?: string
    limit?: number
    anyOrder?: boolean
  }): AsyncIterable<StoredSession> {
    const t = this.#table
    const owners = this.#owners
    if (options.owner !== undefined && owners === undefined) return
    const join = owners === undefined ? '' : `LEFT JOIN ${owners} o ON o.token = s.token`
    const where = options.owner === undefined ? '' : 'AND o.owner = ?'
    const select = `SELECT s.rowid AS rid, s.expiry AS expiry, s.token AS token, s.data AS data, ${ms('s.expiry')} AS ms${owners === undefined ? '' : ', o.owner AS owner'} FROM ${t} s ${join} WHERE julianday('now') < s.expiry ${where}`
    // Pages resume after the last row seen. By key, a session an app writes meanwhile is read
    // once; by expiry (then rowid, for ties), one whose expiry moves on may be read again.
    const byKey = options.anyOrder === true
    const order = byKey ? 's.token' : 's.expiry, s.rowid'
    const first = this.#db.prepare(`${select} ORDER BY ${order} LIMIT ?`)
    const next = this.#db.prepare(
      `${select} AND ${byKey ? 's.token > ?' : '(s.expiry, s.rowid) > (?, ?)'} ORDER BY ${order} LIMIT ?`,
    )
    const cursor = (row: PagedRow): SQLiteValue[] => (byKey ? [row.token] : [row.expiry, row.rid])
    const owner = options.owner === undefined ? [] : [options.owner]
    let left = options.limit ?? Number.POSITIVE_INFINITY
    let last: PagedRow | undefined
    while (left > 0) {
      const size = Math.min(PAGE, left)
      const rows = (
        last === undefined ? first.all(...owner, size) : next.all(...owner, ...cursor(last), size)
      ) as PagedRow[]
      for (const row of rows) yield toSession(row)
      if (rows.length < size) return
      left -= rows.length
      last = rows[rows.length - 1]
    }
  }

  async *keys(): AsyncIterable<string> {
    const page = this.#db.prepare(
      `SELECT rowid AS rid, token FROM ${this.#table} WHERE rowid > ? AND julianday('now') < expiry ORDER BY rowid LIMIT ${PAGE}`,
    )
    let after = 0
    for (;;) {
      const rows = page.all(after) as { rid: number; token: string }[]
      for (const row of rows) yield row.token
      const last = rows[rows.length - 1]
      if (last === undefined) return
      after = last.rid
    }
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const owners = this.#owners
    const row = this.#db
      .prepare(
        `SELECT s.token AS token, s.data AS data, ${ms('s.expiry')} AS ms${owners === undefined ? '' : `, (SELECT owner FROM ${owners} WHERE token = s.token) AS owner`} FROM ${this.#table} s WHERE s.token = ? AND julianday('now') < s.expiry`,
      )
      .get(key) as Row | null | undefined
    return row == null ? undefined : toSession(row)
  }

  async countExpired(): Promise<number> {
    const row = this.#db
      .prepare(`SELECT COUNT(*) AS n FROM ${this.#table} WHERE expiry < julianday('now')`)
      .get() as { n: number }
    return Number(row.n)
  }

  async pruneBatch(size: number): Promise<number> {
    // The store's own batch: one short write transaction, so the apps' writes slip in between.
    const sql = `DELETE FROM ${this.#table} WHERE rowid IN (SELECT rowid FROM ${this.#table} WHERE expiry < julianday('now') LIMIT ?)`
    const deleted = Number(this.#db.prepare(sql).run(size).changes)
    if (deleted < size && this.#has(endedTableName(this.#table))) {
      this.#db
        .prepare(`DELETE FROM ${endedTableName(this.#table)} WHERE expiry < julianday('now')`)
        .run()
    }
    return deleted
  }

  revoke(key: string): Promise<boolean> {
    return revokeLive(this, this.#store, key)
  }

  async ownedKeys(owner: string): Promise<string[]> {
    return this.#owners === undefined ? [] : listedKeys(this, owner)
  }

  write(session: StoredSession, replace: boolean): Promise<boolean> {
    return writeThrough(this.#store, session, replace)
  }

  async close(): Promise<void> {
    this.#store.close()
    this.#db.close()
  }
}

function toSession(row: Row): StoredSession {
  const session: StoredSession = {
    key: row.token,
    data: bytes(row.data),
    expiresAt: new Date(Math.round(row.ms)),
  }
  if (row.owner != null) session.owner = row.owner
  return session
}
