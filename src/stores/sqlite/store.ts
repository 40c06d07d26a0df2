import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { StoreError } from '../../errors.js'
import { ExpiredListeners } from '../../expired.js'
import type { CommitMode, DeviceInfo, EndReason, IterableStore, OwnedSession } from '../../store.js'
import { toEndReason } from '../../store.js'
import { WriteGroup } from './batch.js'
import { runOnce } from './driver.js'
import { isMissingTable, logCleanupError, sqliteCode, toSQLiteStoreError } from './errors.js'
import { FileWatch, fileId } from './file-watch.js'
import type { OpenedFile } from './opened.js'
import {
  checkTableName,
  DEFAULT_TABLE,
  endedSchemaSQL,
  endedStatementsSQL,
  endedTableName,
  goTimeString,
  indexName,
  MAIN_FILE_SQL,
  ownersSchemaSQL,
  ownersStatementsSQL,
  schemaSQL,
  statementsSQL,
} from './sql.js'
import type { SQLiteDatabase, SQLiteStatement, SQLiteStoreOptions } from './types.js'

type Statements = { [K in keyof ReturnType<typeof statementsSQL>]: SQLiteStatement }
type EndedStatements = { [K in keyof ReturnType<typeof endedStatementsSQL>]: SQLiteStatement }
type OwnerStatements = { [K in keyof ReturnType<typeof ownersStatementsSQL>]: SQLiteStatement }

const encoder = new TextEncoder()
const BATCH_BUDGET_MS = 4

// The lock error SQLite gives at once when the connection's own busy timeout is 0.
const isBusy = (err: unknown): boolean => {
  const cause = err instanceof StoreError ? err.cause : err
  return sqliteCode(cause)?.startsWith('SQLITE_BUSY') === true
}

// A row written by other tools may hold TEXT data (sqlite3store's own test fixtures do).
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  return encoder.encode(String(value))
}

/**
 * A session store on a SQLite database, file-compatible with Go's sqlite3store: the same table,
 * the same Julian-day expiry, the same liveness rule, so Go and Node programs can share one file.
 * Statements are prepared once, on first use; every driver failure rejects with a StoreError whose
 * `cause` is the SQLite error. Expired rows are deleted every 5 minutes, in small batches, by an
 * unref'd timer; `close()` stops it (and closes the connection when {@link openSQLiteStore} made
 * it).
 *
 * Another unref'd timer checks twice a second that the database's path still names the open
 * file. Once it does not (the file was deleted, or another moved over it), every call rejects
 * with a StoreError saying so, since writes into a deleted file would be lost at the next
 * restart; a store {@link openSQLiteStore} opened then opens the file at the path again
 * (creating it when missing) at its next check, while one on a connection of your own stays
 * failed: open a new connection and store.
 *
 * @example
 * const store = new SQLiteStore(new Database('sessions.db'), { cleanupInterval: 60_000 })
 */
export class SQLiteStore implements IterableStore, Disposable {
  #db: SQLiteDatabase
  readonly #table: string
  readonly #batchSize: number
  readonly #onCleanupError: (error: StoreError) => void
  #statements: Statements | undefined
  #endedStatements: EndedStatements | undefined
  #ownerStatements: OwnerStatements | undefined
  readonly #createTable: boolean
  readonly #busyTimeout: number
  readonly #writes: WriteGroup
  #timer: NodeJS.Timeout | undefined
  readonly #expired = new ExpiredListeners()
  #sweeping: Promise<number> | undefined
  #closed = false
  readonly #onClosed: Array<() => void> = []

  readonly #opened: OpenedFile | undefined
  #watch: FileWatch | undefined
  readonly #fileCheck: number
  // Why calls fail while the path no longer names the open file; undefined while it does.
  #gone: string | undefined

  /**
   * `opened` is for {@link openSQLiteStore} alone: the file it opened for this store, which the
   * store then owns. Leave it out when passing a connection of your own.
   */
  constructor(db: SQLiteDatabase, options: SQLiteStoreOptions = {}, opened?: OpenedFile) {
    if (typeof db?.prepare !== 'function' || typeof db.exec !== 'function') {
      throw new TypeError(
        'SQLiteStore: db must be a better-sqlite3 Database or a compatible connection',
      )
    }
    const interval = options.cleanupInterval ?? 300_000
    // Node runs a timer above 2^31-1 ms every 1 ms instead, so such a value is refused.
    if (!Number.isFinite(interval) || interval < 0 || interval > 2_147_483_647) {
      throw new RangeError(
        `SQLiteStore: cleanupInterval must be a number of ms from 0 to 2147483647, got ${interval}`,
      )
    }
    const fileCheck = options.fileCheckInterval ?? 500
    if (!Number.isFinite(fileCheck) || fileCheck < 0 || fileCheck > 2_147_483_647) {
      throw new RangeError(
        `SQLiteStore: fileCheckInterval must be a number of ms from 0 to 2147483647, got ${fileCheck}`,
      )
    }
    this.#fileCheck = fileCheck
    const batch = options.cleanupBatchSize ?? 200
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new RangeError(`SQLiteStore: cleanupBatchSize must be a positive integer, got ${batch}`)
    }
    const busyTimeout = options.busyTimeout ?? 0
    if (!Number.isSafeInteger(busyTimeout) || busyTimeout < 0) {
      throw new RangeError(
        `SQLiteStore: busyTimeout must be a non-negative integer of ms, got ${busyTimeout}`,
      )
    }
    this.#busyTimeout = busyTimeout
    this.#writes = new WriteGroup(
      {
        begin: () => this.#run('commit', (s) => s.begin.run()),
        commit: () => this.#run('commit', (s) => s.commitTransaction.run()),
        rollback: () => this.#run('commit', (s) => s.rollback.run()),
      },
      { busyTimeout, isBusy },
    )
    this.#db = db
    this.#table = checkTableName(options.tableName ?? DEFAULT_TABLE)
    this.#batchSize = batch
    this.#onCleanupError = options.onCleanupError ?? logCleanupError
    this.#opened = opened
    if (opened !== undefined) opened.writes = this.#writes
    this.#createTable = options.createTable ?? true
    if (this.#createTable) this.#createSchema(db)
    if (fileCheck > 0) this.#watchFile(fileCheck)
    if (interval > 0) {
      this.#timer = setInterval(() => {
        this.deleteExpired().then(
          (count) => this.#expired.report(count),
          (err: unknown) => this.#reportCleanupError(err),
        )
      }, interval)
      this.#timer.unref()
    }
  }

  /** True once `close()` has run. */
  get closed(): boolean {
    return this.#closed
  }

  /** The table this store reads and writes. */
  get tableName(): string {
    return this.#table
  }

  find(key: string): Promise<Uint8Array | undefined> {
    return this.#readNow('find', (s) => {
      // A write for this key still waiting in the turn's group goes first: reads see earlier writes.
      if (this.#writes.pending(key)) this.#writes.flush()
      const row = (s.find.get(key) ?? undefined) as { data: unknown } | undefined
      return row === undefined ? undefined : toBytes(row.data)
    })
  }

  async commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean> {
    const at = goTimeString(expiry)
    return this.#write(key, () =>
      this.#run('commit', (s) => {
        if (mode === 'update') return s.update.run(data, at, key).changes > 0
        return (mode === 'insert' ? s.insert : s.upsert).run(key, data, at).changes > 0
      }),
    )
  }

  async delete(key: string): Promise<void> {
    await this.#write(key, () => this.#run('delete', (s) => s.delete.run(key)))
  }

  /** Moves a live row's expiry without rewriting its data; resolves false when no live row holds `key`. */
  async touch(key: string, expiry: Date): Promise<boolean> {
    const at = goTimeString(expiry)
    return this.#write(key, () => this.#run('touch', (s) => s.touch.run(at, key).changes > 0))
  }

  /** Compare-and-set on the stored bytes (see `Store#replace`), in the turn's write group. */
  async replace(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined> {
    const at = goTimeString(expiry)
    return this.#write(key, () =>
      this.#run('commit', (s): true | Uint8Array | undefined => {
        if (s.replace.run(data, at, key, expected).changes > 0) return true
        const row = (s.find.get(key) ?? undefined) as { data: unknown } | undefined
        return row === undefined ? undefined : toBytes(row.data)
      }),
    )
  }

  /** Deletes `key` and, when its row was live, remembers it as ended until `until`, in one savepoint (see `Store#end`). */
  async end(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined> {
    const at = goTimeString(until)
    return this.#write(key, () =>
      this.#run('end', (s) => {
        const marks = this.#ended()
        s.savepoint.run()
        try {
          const row = (s.endDelete.get(key) ?? undefined) as
            | { data: unknown; live: unknown }
            | undefined
          const live = row !== undefined && Number(row.live) === 1
          if (live) marks.mark.run(key, reason, at)
          s.release.run()
          return live ? toBytes(row.data) : undefined
        } catch (err) {
          try {
            s.rollbackTo.run()
            s.release.run()
          } catch {
            // SQLite may have rolled back already (a full disk ends the transaction itself).
          }
          throw err
        }
      }),
    )
  }

  /** Why `key` was ended, while that is remembered (see `Store#ended`). */
  async ended(key: string): Promise<EndReason | undefined> {
    if (this.#writes.pending(key)) this.#writes.flush()
    let row: { reason: unknown } | undefined
    try {
      row = (await this.#read('ended', () => this.#ended().find.get(key))) as typeof row
    } catch (err) {
      // No such table (a read-only file, or createTable: false): nothing was ever ended in it.
      if (isMissingTable(err)) return undefined
      throw err
    }
    return toEndReason(row?.reason)
  }

  /** Files `key` under `owner` in the owner index (see `Store#setOwner`); the index table and its trigger are made on first use. */
  async setOwner(
    key: string,
    owner: string | undefined,
    _previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void> {
    const ms = at.getTime()
    await this.#write(key, () =>
      this.#run('setOwner', () => {
        const o = this.#owners()
        if (owner === undefined) o.unset.run(key)
        // '' for an unknown User-Agent or IP: the bound types stay the ones every driver takes.
        else o.set.run(key, owner, ms, ms, device.userAgent ?? '', device.ip ?? '')
      }),
    )
  }

  /** The live sessions filed under `owner`, through the index by owner (see `Store#listOwned`). */
  async listOwned(owner: string): Promise<OwnedSession[]> {
    this.#writes.flush()
    const rows = (await this.#read('listOwned', () => this.#owners().list.all(owner))) as {
      token: string
      created: number | bigint
      seen: number | bigint
      user_agent: string | null
      ip: string | null
      expires: number
    }[]
    return rows.map((row) => {
      const owned: OwnedSession = {
        key: row.token,
        createdAt: new Date(Number(row.created)),
        lastSeenAt: new Date(Number(row.seen)),
        expiresAt: new Date(Math.round(row.expires)),
      }
      if (row.user_agent) owned.userAgent = row.user_agent
      if (row.ip) owned.ip = row.ip
      return owned
    })
  }

  /** Moves an indexed session's last-seen time (see `Store#touchOwned`). */
  async touchOwned(key: string, _owner: string, at: Date): Promise<void> {
    const ms = at.getTime()
    await this.#write(key, () => this.#run('touchOwned', () => this.#owners().seen.run(ms, key)))
  }

  async all(): Promise<Map<string, Uint8Array>> {
    this.#writes.flush()
    const rows = (await this.#read('all', (s) => s.all.all())) as { token: string; data: unknown }[]
    const out = new Map<string, Uint8Array>()
    for (const row of rows) out.set(row.token, toBytes(row.data))
    return out
  }

  /**
   * Deletes every row with `expiry < julianday('now')` in batches of `cleanupBatchSize`, letting
   * the event loop run between batches, and resolves the number deleted. A call made while a
   * sweep runs joins it. Rejects with a StoreError when a batch fails; earlier batches stay done.
   */
  deleteExpired(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined
    })
    return this.#sweeping
  }

  /** Calls `listener` with the number of expired sessions each timed cleanup removed (see `Store#onExpired`). */
  onExpired(listener: (count: number) => void): void {
    this.#expired.add(listener)
  }

  /** Stops the cleanup timer; idempotent and never blocks. */
  stopCleanup(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /**
   * Resolves once the store is closed and has let go of the file: for a store
   * {@link openSQLiteStore} opened, once its checkpoint thread has closed its connection too,
   * so the file (and its -wal and -shm) can be removed or moved. Call it after `close()`;
   * never rejects.
   */
  async whenClosed(): Promise<void> {
    if (!this.#closed) await new Promise<void>((resolve) => this.#onClosed.push(resolve))
    await this.#opened?.checkpointer?.exited
    await this.#opened?.retired
  }

  /**
   * Stops cleanup and refuses further calls; closes the connection when {@link openSQLiteStore}
   * opened it. Idempotent and never blocks: a running sweep stops at its next batch.
   */
  close(): void {
    if (this.#closed) return
    // Writes already accepted in this turn still land; they are quick and close must not lose them.
    this.#writes.flush()
    // Writes still waiting for another process's lock cannot wait any longer: they fail, loudly.
    this.#writes.abandon(
      new StoreError(
        'SQLiteStore commit failed: the store was closed while the write waited for a lock',
      ),
    )
    this.#closed = true
    this.stopCleanup()
    this.#watch?.stop()
    this.#opened?.checkpointer?.stop()
    for (const resolve of this.#onClosed.splice(0)) resolve()
    if (this.#opened === undefined) return
    this.#closeConnection()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  // A batch holds the event loop and the write lock: halve it when it runs past the budget and
  // grow it back toward cleanupBatchSize when quick, so a slow disk cannot stretch a stall.
  async #sweep(): Promise<number> {
    let total = 0
    let size = this.#batchSize
    for (;;) {
      if (this.#closed) return total
      const started = performance.now()
      const deleted = Number(await this.#read('cleanup', (s) => s.deleteBatch.run(size).changes))
      const took = performance.now() - started
      total += deleted
      if (deleted < size) break
      if (took > BATCH_BUDGET_MS) size = Math.max(1, size >> 1)
      else if (took < BATCH_BUDGET_MS / 4) size = Math.min(this.#batchSize, size * 2)
      await yieldToEventLoop()
    }
    // Ended keys are few (one per sign-in or logout, for a minute): fixed batches suffice.
    for (;;) {
      if (this.#closed) return total
      const batch = this.#batchSize
      let deleted: number
      try {
        deleted = Number(
          await this.#read('cleanup', () => this.#ended().deleteBatch.run(batch).changes),
        )
      } catch (err) {
        if (isMissingTable(err)) return total
        throw err
      }
      if (deleted < batch) return total
      await yieldToEventLoop()
    }
  }

  // Every write goes through the turn's group, unless the disk is full and being reclaimed.
  #write<T>(key: string, run: () => T): Promise<T> {
    const pressure = this.#opened?.pressure
    if (pressure?.full === true) {
      pressure.reclaim()
      return Promise.reject(
        new StoreError(
          'SQLiteStore commit failed (SQLITE_FULL): the disk is full; writes resume by themselves once space is freed and the WAL has been checkpointed into the database',
        ),
      )
    }
    return this.#writes.write(key, run)
  }

  // The hot path of a read: one that meets no lock resolves without an async frame of its own
  // (two of them were a fifth of a find's cost); one that does waits as #read does.
  #readNow<T>(operation: string, body: (statements: Statements) => T): Promise<T> {
    try {
      return Promise.resolve(this.#run(operation, body))
    } catch (err) {
      if (this.#busyTimeout === 0 || !isBusy(err)) return Promise.reject(err)
      return this.#read(operation, body)
    }
  }

  // A statement that meets another connection's lock is tried again on a timer, so the wait
  // never holds the event loop; writes wait the same way inside their group.
  async #read<T>(operation: string, body: (statements: Statements) => T): Promise<T> {
    const deadline = performance.now() + this.#busyTimeout
    let backoff = 1
    for (;;) {
      try {
        return this.#run(operation, body)
      } catch (err) {
        if (this.#busyTimeout === 0 || !isBusy(err) || performance.now() >= deadline) throw err
      }
      await sleep(backoff)
      backoff = Math.min(backoff * 2, 10)
    }
  }

  #run<T>(operation: string, body: (statements: Statements) => T): T {
    if (this.#closed) {
      throw new StoreError(`SQLiteStore ${operation} failed: the store is closed; create a new one`)
    }
    if (this.#gone !== undefined) {
      throw new StoreError(`SQLiteStore ${operation} failed: ${this.#gone}`)
    }
    try {
      return body(this.#statements ?? this.#prepare())
    } catch (err) {
      if (sqliteCode(err) === 'SQLITE_FULL') {
        const pressure = this.#opened?.pressure
        if (pressure !== undefined) {
          pressure.full = true
          pressure.reclaim()
        }
      }
      throw toSQLiteStoreError(err, operation, this.#table)
    }
  }

  // Prepared together on first use, so a table created after the store still works, then reused.
  #prepare(): Statements {
    const sql = statementsSQL(this.#table)
    const prepared = {} as Statements
    for (const name of Object.keys(sql) as (keyof Statements)[]) {
      prepared[name] = this.#db.prepare(sql[name])
    }
    this.#statements = prepared
    return prepared
  }

  // The owner index costs nothing until a manager with an `owner` uses it.
  #owners(): OwnerStatements {
    if (this.#ownerStatements !== undefined) return this.#ownerStatements
    if (this.#createTable) for (const sql of ownersSchemaSQL(this.#table)) this.#db.exec(sql)
    const sql = ownersStatementsSQL(this.#table)
    const prepared = {} as OwnerStatements
    for (const name of Object.keys(sql) as (keyof OwnerStatements)[]) {
      prepared[name] = this.#db.prepare(sql[name])
    }
    this.#ownerStatements = prepared
    return prepared
  }

  #ended(): EndedStatements {
    if (this.#endedStatements !== undefined) return this.#endedStatements
    const sql = endedStatementsSQL(this.#table)
    const prepared = {} as EndedStatements
    for (const name of Object.keys(sql) as (keyof EndedStatements)[]) {
      prepared[name] = this.#db.prepare(sql[name])
    }
    this.#endedStatements = prepared
    return prepared
  }

  // Checks before creating, so a read-only or busy file with the schema already in place still opens.
  #createSchema(db: SQLiteDatabase): void {
    const has = (type: string, name: string): boolean =>
      runOnce(db, statementsSQL(this.#table).hasObject, (s) => s.get(type, name) != null)
    try {
      const schema = schemaSQL(this.#table)
      if (!has('table', this.#table)) db.exec(schema.table)
      if (!has('index', indexName(this.#table))) db.exec(schema.index)
    } catch (err) {
      throw toSQLiteStoreError(err, 'create table', this.#table)
    }
    try {
      const ended = endedSchemaSQL(this.#table)
      const endedTable = endedTableName(this.#table)
      if (!has('table', endedTable)) db.exec(ended.table)
      if (!has('index', indexName(endedTable))) db.exec(ended.index)
    } catch (err) {
      // A read-only connection can read sessions but never end one (that write fails anyway,
      // with its own clear error), so it opens without the ended-keys table.
      if (sqliteCode(err)?.startsWith('SQLITE_READONLY')) return
      throw toSQLiteStoreError(err, 'create table', endedTableName(this.#table))
    }
  }

  // bun:sqlite closes with sqlite3_close_v2, which keeps the file (and its WAL) open until every
  // statement is finalized; the other drivers finalize them in close() themselves.
  #closeConnection(): void {
    try {
      for (const group of [this.#statements, this.#endedStatements, this.#ownerStatements]) {
        for (const statement of Object.values(group ?? {}) as SQLiteStatement[]) {
          statement.finalize?.()
        }
      }
      this.#db.close()
    } catch (err) {
      this.#reportCleanupError(err)
    }
  }

  // The file a connection of the user's has open, as SQLite names it ('' for memory or temp).
  #watchFile(interval: number): void {
    let path = this.#opened === undefined ? undefined : this.#opened.path
    if (this.#opened === undefined) {
      try {
        const row = runOnce(this.#db, MAIN_FILE_SQL, (s) => s.get()) as
          | { file?: unknown }
          | null
          | undefined
        if (typeof row?.file === 'string' && row.file !== '') path = row.file
      } catch {
        // Not a connection SQLite can describe (a test's stand-in): nothing to watch.
      }
    }
    if (path === undefined || fileId(path) === undefined) return
    this.#watch = new FileWatch(path, interval, (same) => this.#fileChecked(same))
  }

  // From the first check that finds another file (or none) at the path, every call fails; the
  // next checks reopen when the store opened the file itself. Writes still waiting in the group
  // (for a lock) were never acknowledged and must not reach the old file either.
  #fileChecked(same: boolean): void {
    if (this.#closed) return
    const path = JSON.stringify(this.#watch?.path)
    if (this.#gone === undefined) {
      if (same) return
      const reopen =
        this.#opened?.reopen === undefined
          ? 'this store cannot reopen a connection it did not open: open a new connection to the file and a new SQLiteStore on it (openSQLiteStore reopens by itself)'
          : `the store opens the file at that path again by itself (creating it when missing) at its next check, within ${this.#fileCheck} ms`
      this.#gone = `the database file ${path} was deleted or replaced while the store had it open, and what it wrote there would be lost; ${reopen}`
      this.#writes.abandon(new StoreError(`SQLiteStore commit failed: ${this.#gone}`))
      this.#reportCleanupError(new StoreError(`SQLiteStore: ${this.#gone}`))
      return
    }
    const reopen = this.#opened?.reopen
    if (reopen === undefined) return
    let db: SQLiteDatabase
    try {
      // As at open, the schema waits synchronously for another process's lock, once.
      db = reopen((next) => {
        if (this.#createTable) this.#createSchema(next)
      })
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      const gone = `the database file ${path} was deleted or replaced while the store had it open, and opening the file at that path again failed: ${why}; the store tries again every check`
      if (gone !== this.#gone) this.#reportCleanupError(new StoreError(`SQLiteStore: ${gone}`))
      this.#gone = gone
      return
    }
    this.#closeConnection()
    this.#db = db
    this.#statements = undefined
    this.#endedStatements = undefined
    this.#ownerStatements = undefined
    this.#watch?.rebase()
    this.#gone = undefined
  }

  #reportCleanupError(err: unknown): void {
    try {
      this.#onCleanupError(toSQLiteStoreError(err, 'cleanup', this.#table))
    } catch {
      // A throwing error handler must not take the timer, or the process, down with it.
    }
  }
}
