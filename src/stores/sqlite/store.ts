import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { StoreError } from '../../errors.js'
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
import { toBytes } from '../kit/bytes.js'
import { CleanupTimer } from '../kit/cleanup.js'
import type { WriteGroup } from './batch.js'
import { Connection } from './connection.js'
import { isMissingTable, toSQLiteStoreError } from './errors.js'
import { FileGuard } from './file-guard.js'
import type { OpenedFile } from './opened.js'
import { storeSettings } from './options.js'
import { Runner } from './runner.js'
import { goTimeString } from './sql.js'
import type { SQLiteDatabase, SQLiteStoreOptions } from './types.js'

const BATCH_BUDGET_MS = 4

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
export class SQLiteStore
  implements
    TouchStore,
    CompareAndSetStore,
    EndingStore,
    OwnerIndexStore,
    IterableStore,
    ExpiryEventsStore,
    Disposable
{
  readonly #connection: Connection
  readonly #table: string
  readonly #batchSize: number
  readonly #onCleanupError: (error: StoreError) => void
  readonly #runner: Runner
  readonly #writes: WriteGroup
  readonly #cleanup: CleanupTimer
  readonly #file: FileGuard
  readonly #opened: OpenedFile | undefined
  #closed = false
  readonly #onClosed: Array<() => void> = []

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
    const settings = storeSettings('SQLiteStore', options)
    const { busyTimeout, tableName } = settings
    this.#table = tableName
    this.#batchSize = settings.cleanupBatchSize
    this.#onCleanupError = settings.onCleanupError
    this.#opened = opened
    this.#connection = new Connection(db, tableName, settings.createTable)
    this.#runner = new Runner(this.#connection, { table: tableName, busyTimeout, opened })
    this.#writes = this.#runner.writes
    this.#connection.createSchema()
    this.#file = new FileGuard({
      connection: this.#connection,
      opened,
      runner: this.#runner,
      interval: settings.fileCheckInterval,
      report: (err) => this.#reportCleanupError(err),
    })
    this.#cleanup = new CleanupTimer(
      settings.cleanupInterval,
      (stopping) => this.#sweep(stopping),
      (err) => this.#reportCleanupError(err),
    )
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
    return this.#runner.readNow('find', (s) => {
      // A write for this key still waiting in the turn's group goes first: reads see earlier writes.
      if (this.#writes.pending(key)) this.#writes.flush()
      const row = (s.find.get(key) ?? undefined) as { data: unknown } | undefined
      return row === undefined ? undefined : toBytes(row.data)
    })
  }

  async commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean> {
    const at = goTimeString(expiry)
    return this.#runner.write(key, 'commit', (s) => {
      if (mode === 'update') return s.update.run(data, at, key).changes > 0
      return (mode === 'insert' ? s.insert : s.upsert).run(key, data, at).changes > 0
    })
  }

  async delete(key: string): Promise<void> {
    await this.#runner.write(key, 'delete', (s) => s.delete.run(key))
  }

  /** Moves a live row's expiry without rewriting its data; resolves false when no live row holds `key`. */
  async touch(key: string, expiry: Date): Promise<boolean> {
    const at = goTimeString(expiry)
    return this.#runner.write(key, 'touch', (s) => s.touch.run(at, key).changes > 0)
  }

  /** Compare-and-set on the stored bytes (see `Store#replace`), in the turn's write group. */
  async replace(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined> {
    const at = goTimeString(expiry)
    return this.#runner.write(key, 'commit', (s): true | Uint8Array | undefined => {
      if (s.replace.run(data, at, key, expected).changes > 0) return true
      const row = (s.find.get(key) ?? undefined) as { data: unknown } | undefined
      return row === undefined ? undefined : toBytes(row.data)
    })
  }

  /** Deletes `key` and, when its row was live, remembers it as ended until `until`, in one savepoint (see `Store#end`). */
  async end(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined> {
    const at = goTimeString(until)
    return this.#runner.write(key, 'end', (s) => {
      const marks = this.#connection.ended()
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
    })
  }

  /** Why `key` was ended, while that is remembered (see `Store#ended`). */
  async ended(key: string): Promise<EndReason | undefined> {
    if (this.#writes.pending(key)) this.#writes.flush()
    let row: { reason: unknown } | undefined
    try {
      row = (await this.#runner.read('ended', () =>
        this.#connection.ended().find.get(key),
      )) as typeof row
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
    await this.#runner.write(key, 'setOwner', () => {
      const o = this.#connection.owners()
      if (owner === undefined) o.unset.run(key)
      // '' for an unknown User-Agent or IP: the bound types stay the ones every driver takes.
      else o.set.run(key, owner, ms, ms, device.userAgent ?? '', device.ip ?? '')
    })
  }

  /** The live sessions filed under `owner`, through the index by owner (see `Store#listOwned`). */
  async listOwned(owner: string): Promise<OwnedSession[]> {
    this.#writes.flush()
    const rows = (await this.#runner.read('listOwned', () =>
      this.#connection.owners().list.all(owner),
    )) as {
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
    await this.#runner.write(key, 'touchOwned', () => this.#connection.owners().seen.run(ms, key))
  }

  async all(): Promise<Map<string, Uint8Array>> {
    this.#writes.flush()
    const rows = (await this.#runner.read('all', (s) => s.all.all())) as {
      token: string
      data: unknown
    }[]
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
   * runs on to its end, or to `close()`).
   */
  stopCleanup(): Promise<void> {
    return this.#cleanup.stop()
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
    this.#runner.close()
    this.#closed = true
    void this.stopCleanup()
    this.#file.stop()
    this.#opened?.checkpointer?.stop()
    for (const resolve of this.#onClosed.splice(0)) resolve()
    if (this.#opened === undefined) return
    try {
      this.#connection.close()
    } catch (err) {
      this.#reportCleanupError(err)
    }
  }

  [Symbol.dispose](): void {
    this.close()
  }

  // A batch holds the event loop and the write lock: halve it when it runs past the budget and
  // grow it back toward cleanupBatchSize when quick, so a slow disk cannot stretch a stall.
  async #sweep(stopping: () => boolean): Promise<number> {
    let total = 0
    let size = this.#batchSize
    for (;;) {
      if (this.#closed || stopping()) return total
      const started = performance.now()
      const deleted = Number(
        await this.#runner.read('cleanup', (s) => s.deleteBatch.run(size).changes),
      )
      const took = performance.now() - started
      total += deleted
      if (deleted < size) break
      if (took > BATCH_BUDGET_MS) size = Math.max(1, size >> 1)
      else if (took < BATCH_BUDGET_MS / 4) size = Math.min(this.#batchSize, size * 2)
      await yieldToEventLoop()
    }
    // Ended keys are few (one per sign-in or logout, for a minute): fixed batches suffice.
    for (;;) {
      if (this.#closed || stopping()) return total
      const batch = this.#batchSize
      let deleted: number
      try {
        deleted = Number(
          await this.#runner.read(
            'cleanup',
            () => this.#connection.ended().deleteBatch.run(batch).changes,
          ),
        )
      } catch (err) {
        if (isMissingTable(err)) return total
        throw err
      }
      if (deleted < batch) return total
      await yieldToEventLoop()
    }
  }

  #reportCleanupError(err: unknown): void {
    try {
      this.#onCleanupError(toSQLiteStoreError(err, 'cleanup', this.#table))
    } catch {
      // A throwing error handler must not take the timer, or the process, down with it.
    }
  }
}
