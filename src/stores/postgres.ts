import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { StoreError } from '../errors.js'
import { ExpiredListeners } from '../expired.js'
import type { CommitMode, DeviceInfo, EndReason, IterableStore, OwnedSession } from '../store.js'
import { toEndReason } from '../store.js'
import { withTimeout } from './timeout.js'

/** One statement as the store sends it: pg's query config (a named statement is prepared once per connection). */
export interface PostgresQuery {
  name?: string
  text: string
  values?: unknown[]
  /** pg's per-query read timeout, so a connection stuck on a dead server is released. */
  query_timeout?: number
}

/** The part of a query result the store reads. */
export interface PostgresResult {
  rows: unknown[]
  rowCount: number | null
}

/** The one method the store calls: `query(config)` of a pg `Pool` (recommended) or `Client`. */
export interface PostgresClient {
  query(config: PostgresQuery): Promise<PostgresResult>
}

/** Options for {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** How often expired rows are deleted, in ms; 0 disables the timer. @default 300_000 (5 min, as postgresstore) */
  cleanupInterval?: number
  /** Rows deleted per batch by `deleteExpired`, so no statement holds locks on many rows. @default 500 */
  cleanupBatchSize?: number
  /** Create the table and its expiry index on first use when missing; with false a missing table is a StoreError. @default true */
  createTable?: boolean
  /** The table; a plain identifier (letters, digits, `_`), optionally schema-qualified (`auth.sessions`). @default 'sessions' */
  tableName?: string
  /** How long one operation may take before it rejects with a StoreError, in ms. @default 2_000 */
  timeout?: number
  /** Receives a failed timed cleanup; the timer keeps running. @default logs with console.error */
  onCleanupError?: (error: StoreError) => void
}

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
function indexName(table: string): string {
  return `${table.slice(table.lastIndexOf('.') + 1)}_expiry_idx`
}

function checkTableName(name: string): string {
  const parts = typeof name === 'string' ? name.split('.') : []
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new RangeError(
      `PostgresStore: tableName must be an identifier matching ${IDENTIFIER}, optionally schema-qualified, got ${JSON.stringify(name)}`,
    )
  }
  return name
}

// Liveness and cleanup use the database clock, strict on both sides, as postgresstore.
function statementsSQL(t: string) {
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

type StatementName = keyof ReturnType<typeof statementsSQL>

const logCleanupError = (error: StoreError): void => {
  console.error('sessionkit: PostgresStore cleanup failed:', error)
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  return new TextEncoder().encode(String(value))
}

// pg binds a Buffer as binary without a copy; a plain Uint8Array view is wrapped, not copied.
function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

function advice(err: unknown, table: string): string {
  const code = (err as { code?: unknown } | null)?.code
  if (code === '42P01') {
    return `the table "${table}" does not exist: create it with the schema in docs/stores.md, or construct the store with createTable: true`
  }
  if (code === '42501') {
    return 'the database user lacks a privilege: it needs SELECT, INSERT, UPDATE and DELETE on the table (and CREATE on the schema for createTable)'
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return 'the PostgreSQL server cannot be reached; requests recover by themselves once it is back'
  }
  return 'see the driver error in `cause`'
}

function toPostgresStoreError(err: unknown, operation: string, table: string): StoreError {
  if (err instanceof StoreError) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new StoreError(`PostgresStore ${operation} failed: ${detail} (${advice(err, table)})`, {
    cause: err,
  })
}

/**
 * A session store on PostgreSQL through a pg `Pool`, schema- and data-compatible with Go's
 * postgresstore and pgxstore: the same table, `TIMESTAMPTZ` expiry and liveness judged on the
 * database clock (`current_timestamp < expiry`). Statements are named, so pg prepares each once
 * per connection. Every operation settles within `timeout`: a dead or unreachable server gives a
 * StoreError (its `cause` is the driver's error) instead of a hanging request, and the store
 * recovers by itself once the pool reconnects. Expired rows are deleted every 5 minutes in small
 * batches by an unref'd timer. The store never ends the pool: that stays the caller's job.
 *
 * Attach `pool.on('error', …)`: pg emits `error` on the pool when an idle connection dies, and an
 * unhandled `error` event ends the process.
 *
 * @example
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 2_000 })
 * pool.on('error', (err) => console.error('postgres:', err.message))
 * const sessions = new SessionManager({ store: new PostgresStore(pool) })
 */
export class PostgresStore implements IterableStore, Disposable {
  readonly #client: PostgresClient
  readonly #table: string
  readonly #batchSize: number
  readonly #timeout: number
  readonly #createTable: boolean
  readonly #onCleanupError: (error: StoreError) => void
  readonly #sql: ReturnType<typeof statementsSQL>
  readonly #names: Record<StatementName, string>
  #schema: Promise<void> | undefined
  #ownersReady: Promise<void> | undefined
  #schemaReady: boolean
  #timer: NodeJS.Timeout | undefined
  readonly #expired = new ExpiredListeners()
  #sweeping: Promise<number> | undefined
  // The running sweep was started by the timer, and stopCleanup asked it to end.
  #timedSweep = false
  #stopSweep = false
  #closed = false

  constructor(client: PostgresClient, options: PostgresStoreOptions = {}) {
    if (typeof client?.query !== 'function') {
      throw new TypeError(
        'PostgresStore: client must be a pg Pool or Client (an object with query())',
      )
    }
    const interval = options.cleanupInterval ?? 300_000
    if (!Number.isFinite(interval) || interval < 0) {
      throw new RangeError(
        `PostgresStore: cleanupInterval must be a non-negative number of ms, got ${interval}`,
      )
    }
    const batch = options.cleanupBatchSize ?? 500
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new RangeError(
        `PostgresStore: cleanupBatchSize must be a positive integer, got ${batch}`,
      )
    }
    const timeout = options.timeout ?? 2_000
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new RangeError(`PostgresStore: timeout must be a positive number of ms, got ${timeout}`)
    }
    this.#client = client
    this.#table = checkTableName(options.tableName ?? DEFAULT_POSTGRES_TABLE)
    this.#batchSize = batch
    this.#timeout = timeout
    this.#createTable = options.createTable ?? true
    this.#schemaReady = !this.#createTable
    this.#onCleanupError = options.onCleanupError ?? logCleanupError
    this.#sql = statementsSQL(this.#table)
    // Named per table: pg refuses one statement name bound to two texts on a connection.
    const names = {} as Record<StatementName, string>
    for (const key of Object.keys(this.#sql) as StatementName[]) {
      names[key] = `sessionkit_${this.#table}_${key}`
    }
    this.#names = names
    if (interval > 0) {
      this.#timer = setInterval(() => {
        // A sweep deleteExpired() started is joined, and stays the caller's.
        if (this.#sweeping === undefined) this.#timedSweep = true
        this.deleteExpired().then(
          (count) => this.#expired.report(count),
          (err: unknown) => this.#reportCleanupError(err),
        )
      }, interval)
      this.#timer.unref()
    }
  }

  /** The table this store reads and writes. */
  get tableName(): string {
    return this.#table
  }

  async find(key: string): Promise<Uint8Array | undefined> {
    const { rows } = await this.#run('find', 'find', [key])
    const row = rows[0] as { data: unknown } | undefined
    return row === undefined ? undefined : toBytes(row.data)
  }

  async commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean> {
    const statement = mode === undefined ? 'upsert' : mode
    const result = await this.#run('commit', statement, [key, toBuffer(data), isoString(expiry)])
    return (result.rowCount ?? 0) > 0
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', 'delete', [key])
  }

  /** Moves a live row's expiry without rewriting its data; resolves false when no live row holds `key`. */
  async touch(key: string, expiry: Date): Promise<boolean> {
    const result = await this.#run('touch', 'touch', [key, isoString(expiry)])
    return (result.rowCount ?? 0) > 0
  }

  /** Compare-and-set on the stored bytes (see `Store#replace`); a second query reads what won. */
  async replace(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined> {
    const values = [key, toBuffer(data), isoString(expiry), toBuffer(expected)]
    const result = await this.#run('commit', 'replace', values)
    if ((result.rowCount ?? 0) > 0) return true
    return this.find(key)
  }

  /** Deletes `key` and, when its row was live, remembers it as ended until `until`, in one statement (see `Store#end`). */
  async end(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined> {
    const { rows } = await this.#run('end', 'end', [key, reason, isoString(until)])
    const row = rows[0] as { data: unknown } | undefined
    return row === undefined ? undefined : toBytes(row.data)
  }

  /** Why `key` was ended, while that is remembered (see `Store#ended`). */
  async ended(key: string): Promise<EndReason | undefined> {
    const { rows } = await this.#run('ended', 'ended', [key])
    return toEndReason((rows[0] as { reason?: unknown } | undefined)?.reason)
  }

  /** Files `key` under `owner` in the owner index (see `Store#setOwner`); its table and trigger are made on first use. */
  async setOwner(
    key: string,
    owner: string | undefined,
    _previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void> {
    await this.#ensureOwners()
    if (owner === undefined) await this.#run('setOwner', 'unsetOwner', [key])
    else {
      const values = [key, owner, isoString(at), device.userAgent ?? null, device.ip ?? null]
      await this.#run('setOwner', 'setOwner', values)
    }
  }

  /** The live sessions filed under `owner`, through the index by owner (see `Store#listOwned`). */
  async listOwned(owner: string): Promise<OwnedSession[]> {
    await this.#ensureOwners()
    const { rows } = await this.#run('listOwned', 'listOwned', [owner])
    return (
      rows as {
        token: string
        created: Date
        seen: Date
        user_agent: string | null
        ip: string | null
        expiry: Date
      }[]
    ).map((row) => {
      const owned: OwnedSession = {
        key: row.token,
        createdAt: new Date(row.created),
        lastSeenAt: new Date(row.seen),
        expiresAt: new Date(row.expiry),
      }
      if (row.user_agent !== null) owned.userAgent = row.user_agent
      if (row.ip !== null) owned.ip = row.ip
      return owned
    })
  }

  /** Moves an indexed session's last-seen time (see `Store#touchOwned`). */
  async touchOwned(key: string, _owner: string, at: Date): Promise<void> {
    await this.#ensureOwners()
    await this.#run('touchOwned', 'touchOwned', [key, isoString(at)])
  }

  async all(): Promise<Map<string, Uint8Array>> {
    const { rows } = await this.#run('all', 'all', [])
    const out = new Map<string, Uint8Array>()
    for (const row of rows as { token: string; data: unknown }[])
      out.set(row.token, toBytes(row.data))
    return out
  }

  /**
   * Creates the table and index now when `createTable` allows and they are missing; every other
   * method does this on first use, so calling it is optional (it surfaces a setup error early).
   */
  async ready(): Promise<void> {
    if (!this.#schemaReady) await this.#ensureSchema()
  }

  /**
   * Deletes every row with `expiry < current_timestamp` in batches of `cleanupBatchSize` and
   * resolves the number deleted. A call made while a sweep runs joins it. Rejects with a
   * StoreError when a batch fails; earlier batches stay done.
   */
  deleteExpired(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined
      this.#timedSweep = false
    })
    return this.#sweeping
  }

  /** Calls `listener` with the number of expired sessions each timed cleanup removed (see `Store#onExpired`). */
  onExpired(listener: (count: number) => void): void {
    this.#expired.add(listener)
  }

  /**
   * Stops the cleanup timer and ends a sweep the timer started after its current batch;
   * idempotent and never throws. The promise settles once that sweep has stopped, for a caller
   * that must know no cleanup statement is still running (a sweep started by `deleteExpired()`
   * runs on to its end).
   */
  stopCleanup(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#timedSweep) this.#stopSweep = true
    const running = this.#timedSweep ? this.#sweeping : undefined
    return (running ?? Promise.resolve(0)).then(
      () => {},
      () => {},
    )
  }

  /**
   * Stops cleanup and refuses further calls. Idempotent and never blocks; it does not end the
   * pool, which belongs to the caller.
   */
  close(): void {
    this.#closed = true
    this.stopCleanup()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  async #sweep(): Promise<number> {
    this.#stopSweep = false
    let total = 0
    for (;;) {
      if (this.#closed || this.#stopSweep) return total
      const deleted = (await this.#run('cleanup', 'deleteBatch', [this.#batchSize])).rowCount ?? 0
      total += deleted
      if (deleted < this.#batchSize) break
      await yieldToEventLoop()
    }
    for (;;) {
      if (this.#closed || this.#stopSweep) return total
      const result = await this.#run('cleanup', 'deleteEndedBatch', [this.#batchSize])
      if ((result.rowCount ?? 0) < this.#batchSize) return total
      await yieldToEventLoop()
    }
  }

  async #run(operation: string, statement: StatementName, values: unknown[]) {
    if (this.#closed) {
      throw new StoreError(
        `PostgresStore ${operation} failed: the store is closed; create a new one`,
      )
    }
    if (!this.#schemaReady) await this.#ensureSchema()
    return this.#query(operation, {
      name: this.#names[statement],
      text: this.#sql[statement],
      values,
      query_timeout: this.#timeout,
    })
  }

  async #query(operation: string, query: PostgresQuery): Promise<PostgresResult> {
    try {
      return await withTimeout(this.#client.query(query), this.#timeout, 'PostgreSQL')
    } catch (err) {
      throw toPostgresStoreError(err, operation, this.#table)
    }
  }

  // The owner index costs nothing until a manager with an `owner` uses it; made once, shared.
  #ensureOwners(): Promise<void> {
    if (!this.#createTable) return Promise.resolve()
    this.#ownersReady ??= (async () => {
      if (!this.#schemaReady) await this.#ensureSchema()
      for (const text of postgresOwnersSchemaSQL(this.#table)) {
        try {
          await this.#query('create owner index', { text })
        } catch (err) {
          // Another process made the same object between our check and our CREATE.
          const code = ((err as StoreError).cause as { code?: unknown } | undefined)?.code
          if (code !== '23505' && code !== '42P07' && code !== '42710') throw err
        }
      }
    })().catch((err: unknown) => {
      this.#ownersReady = undefined
      throw err
    })
    return this.#ownersReady
  }

  // Concurrent first calls share one attempt; a failed attempt is retried by the next call.
  #ensureSchema(): Promise<void> {
    this.#schema ??= this.#createSchema().then(
      () => {
        this.#schemaReady = true
      },
      (err: unknown) => {
        this.#schema = undefined
        throw err
      },
    )
    return this.#schema
  }

  // Checks before creating, so a user without CREATE privilege works once the schema exists.
  async #createSchema(): Promise<void> {
    const schema = postgresSchemaSQL(this.#table)
    const exists = async (name: string): Promise<boolean> => {
      const { rows } = await this.#query('create table', { text: this.#sql.exists, values: [name] })
      return (rows[0] as { present?: boolean } | undefined)?.present === true
    }
    // An index lives in its table's schema: qualified by that schema for the existence check.
    const schemaPrefix = this.#table.slice(0, this.#table.lastIndexOf('.') + 1)
    const ended = postgresEndedSchemaSQL(this.#table)
    const endedTable = postgresEndedTableName(this.#table)
    const objects: [string, string][] = [
      [this.#table, schema.table],
      [schemaPrefix + indexName(this.#table), schema.index],
      [endedTable, ended.table],
      [schemaPrefix + indexName(endedTable), ended.index],
    ]
    for (const [name, text] of objects) {
      if (await exists(name)) continue
      try {
        await this.#query('create table', { text })
      } catch (err) {
        // Another process created the same object (or its row type) between check and CREATE.
        const code = ((err as StoreError).cause as { code?: unknown } | undefined)?.code
        if (code !== '23505' && code !== '42P07' && code !== '42710') throw err
      }
    }
  }

  #reportCleanupError(err: unknown): void {
    try {
      this.#onCleanupError(toPostgresStoreError(err, 'cleanup', this.#table))
    } catch {
      // A throwing error handler must not take the timer, or the process, down with it.
    }
  }
}

function isoString(expiry: Date): string {
  if (Number.isNaN(expiry.getTime()))
    throw new TypeError('PostgresStore: expiry is an invalid Date')
  return expiry.toISOString()
}
