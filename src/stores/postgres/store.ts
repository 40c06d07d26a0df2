import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { StoreError } from '../../errors.js'
import type {
  CommitMode,
  CompareAndSetStore,
  DeviceInfo,
  EndingStore,
  EndReason,
  ExpiryEventsStore,
  IterableStore,
  OwnedSession,
  OwnerIndexStore,
  TouchStore,
} from '../../store.js'
import { toEndReason } from '../../store.js'
import { toBuffer, toBytes } from '../kit/bytes.js'
import { CleanupTimer, cleanupInterval } from '../kit/cleanup.js'
import { checkOptionKeys, positiveInteger, positiveMs } from '../kit/options.js'
import { withTimeout } from '../kit/timeout.js'
import { logCleanupError, toPostgresStoreError } from './errors.js'
import type { StatementName } from './sql.js'
import {
  checkTableName,
  DEFAULT_POSTGRES_TABLE,
  indexName,
  postgresEndedSchemaSQL,
  postgresEndedTableName,
  postgresOwnersSchemaSQL,
  postgresSchemaSQL,
  statementsSQL,
} from './sql.js'
import type {
  PostgresClient,
  PostgresQuery,
  PostgresResult,
  PostgresStoreOptions,
} from './types.js'

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
export class PostgresStore
  implements
    TouchStore,
    CompareAndSetStore,
    EndingStore,
    OwnerIndexStore,
    IterableStore,
    ExpiryEventsStore,
    Disposable
{
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
  readonly #cleanup: CleanupTimer
  #closed = false

  constructor(client: PostgresClient, options: PostgresStoreOptions = {}) {
    if (typeof client?.query !== 'function') {
      throw new TypeError(
        'PostgresStore: client must be a pg Pool or Client (an object with query())',
      )
    }
    checkOptionKeys('PostgresStore', options, OPTION_NAMES)
    const interval = cleanupInterval('PostgresStore', options.cleanupInterval, 300_000)
    const batch = positiveInteger(
      'PostgresStore',
      'cleanupBatchSize',
      options.cleanupBatchSize,
      500,
    )
    const timeout = positiveMs('PostgresStore', 'timeout', options.timeout, 2_000)
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
    this.#cleanup = new CleanupTimer(
      interval,
      (stopping) => this.#sweep(stopping),
      (err) => this.#onCleanupError(toPostgresStoreError(err, 'cleanup', this.#table)),
    )
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
    return this.#cleanup.run()
  }

  /** Calls `listener` with the number of expired sessions each cleanup (timed or `deleteExpired()`) removed (see `ExpiryEventsStore`). */
  onExpired(listener: (count: number) => void): void {
    this.#cleanup.onExpired(listener)
  }

  /**
   * Stops the cleanup timer and ends a sweep the timer started after its current batch;
   * idempotent and never throws. The promise settles once that sweep has stopped, for a caller
   * that must know no cleanup statement is still running (a sweep started by `deleteExpired()`
   * runs on to its end).
   */
  stopCleanup(): Promise<void> {
    return this.#cleanup.stop()
  }

  /**
   * Stops cleanup and refuses further calls. Idempotent and never blocks; it does not end the
   * pool, which belongs to the caller.
   */
  close(): void {
    this.#closed = true
    void this.stopCleanup()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  async #sweep(stopping: () => boolean): Promise<number> {
    let total = 0
    for (;;) {
      if (this.#closed || stopping()) return total
      const deleted = (await this.#run('cleanup', 'deleteBatch', [this.#batchSize])).rowCount ?? 0
      total += deleted
      if (deleted < this.#batchSize) break
      await yieldToEventLoop()
    }
    for (;;) {
      if (this.#closed || stopping()) return total
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
}

const OPTION_NAMES = [
  'cleanupInterval',
  'cleanupBatchSize',
  'createTable',
  'tableName',
  'timeout',
  'onCleanupError',
] as const satisfies readonly (keyof PostgresStoreOptions)[]

function isoString(expiry: Date): string {
  if (Number.isNaN(expiry.getTime()))
    throw new TypeError('PostgresStore: expiry is an invalid Date')
  return expiry.toISOString()
}
