import { setTimeout as sleep } from 'node:timers/promises'
import { StoreError } from '../../errors.js'
import { WriteGroup } from './batch.js'
import type { Connection, Statements } from './connection.js'
import { sqliteCode, toSQLiteStoreError } from './errors.js'
import type { OpenedFile } from './opened.js'

// The lock error SQLite gives at once when the connection's own busy timeout is 0.
const isBusy = (err: unknown): boolean => {
  const cause = err instanceof StoreError ? err.cause : err
  return sqliteCode(cause)?.startsWith('SQLITE_BUSY') === true
}

/** What a {@link Runner} needs beside its connection. */
export interface RunnerOptions {
  /** The sessions table, named in errors. */
  table: string
  /** How long a statement waits for another connection's lock, on timers, in ms; 0 not at all. */
  busyTimeout: number
  /** The file {@link openSQLiteStore} opened for the store, whose full-disk reclaim writes use. */
  opened: OpenedFile | undefined
}

/**
 * How the store's statements reach the database: refused with a StoreError once the store is
 * closed or its file has gone, a lock of another connection waited for on timers (never on the
 * event loop), writes gathered into the turn's write group, a full disk answered by a reclaim
 * and, until it succeeds, by failing writes at once. Every driver error leaves as a StoreError.
 */
export class Runner {
  /** The turn's write group, which every write joins. */
  readonly writes: WriteGroup
  readonly #connection: Connection
  readonly #table: string
  readonly #busyTimeout: number
  readonly #opened: OpenedFile | undefined
  // Why every call fails (closed, or the file gone); undefined while calls run.
  #refusal: string | undefined

  constructor(connection: Connection, options: RunnerOptions) {
    this.#connection = connection
    this.#table = options.table
    this.#busyTimeout = options.busyTimeout
    this.#opened = options.opened
    this.writes = new WriteGroup(
      {
        begin: () => this.run('commit', (s) => s.begin.run()),
        commit: () => this.run('commit', (s) => s.commitTransaction.run()),
        rollback: () => this.run('commit', (s) => s.rollback.run()),
      },
      { busyTimeout: options.busyTimeout, isBusy },
    )
    if (options.opened !== undefined) options.opened.writes = this.writes
  }

  /** Why every call fails now, or undefined while calls run. */
  get refusal(): string | undefined {
    return this.#refusal
  }

  /** Fails every call from now on, saying `why`, and the writes still waiting in the group. */
  fail(why: string): void {
    this.#refusal = why
    this.writes.abandon(new StoreError(`SQLiteStore commit failed: ${why}`))
  }

  /** Lets calls run again after {@link Runner#fail} (the file was reopened). */
  recover(): void {
    this.#refusal = undefined
  }

  /**
   * Lands the writes already accepted in this turn, fails those still waiting for another
   * process's lock, and refuses every call from now on.
   */
  close(): void {
    // They are quick, and close must not lose them.
    this.writes.flush()
    // They cannot wait any longer: they fail, loudly.
    this.writes.abandon(
      new StoreError(
        'SQLiteStore commit failed: the store was closed while the write waited for a lock',
      ),
    )
    this.#refusal = 'the store is closed; create a new one'
  }

  /**
   * Runs `body` as {@link Runner#run} does in the turn's write group, which commits it with the
   * turn's other writes; fails at once while the disk is full and being reclaimed.
   */
  write<T>(key: string, operation: string, body: (statements: Statements) => T): Promise<T> {
    const pressure = this.#opened?.pressure
    if (pressure?.full === true) {
      pressure.reclaim()
      return Promise.reject(
        new StoreError(
          'SQLiteStore commit failed (SQLITE_FULL): the disk is full; writes resume by themselves once space is freed and the WAL has been checkpointed into the database',
        ),
      )
    }
    return this.writes.write(key, () => this.run(operation, body))
  }

  /**
   * Runs a read as {@link Runner#read} does; one that meets no lock resolves without an async
   * frame of its own (two of them were a fifth of a find's cost): the hot path.
   */
  readNow<T>(operation: string, body: (statements: Statements) => T): Promise<T> {
    try {
      return Promise.resolve(this.run(operation, body))
    } catch (err) {
      if (this.#busyTimeout === 0 || !isBusy(err)) return Promise.reject(err)
      return this.read(operation, body)
    }
  }

  /**
   * Runs `body`, trying again on a timer while it meets another connection's lock, for up to
   * `busyTimeout` ms, so the wait never holds the event loop; writes wait the same way inside
   * their group.
   */
  async read<T>(operation: string, body: (statements: Statements) => T): Promise<T> {
    const deadline = performance.now() + this.#busyTimeout
    let backoff = 1
    for (;;) {
      try {
        return this.run(operation, body)
      } catch (err) {
        if (this.#busyTimeout === 0 || !isBusy(err) || performance.now() >= deadline) throw err
      }
      await sleep(backoff)
      backoff = Math.min(backoff * 2, 10)
    }
  }

  /** Runs `body` now; throws a StoreError naming `operation` when it fails or calls are refused. */
  run<T>(operation: string, body: (statements: Statements) => T): T {
    if (this.#refusal !== undefined) {
      throw new StoreError(`SQLiteStore ${operation} failed: ${this.#refusal}`)
    }
    try {
      return body(this.#connection.statements())
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
}
