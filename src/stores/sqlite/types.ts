import type { StoreError } from '../../errors.js'
import type { SQLiteDriverName } from './driver.js'

/** A value the store binds: text, a number or bytes. */
export type SQLiteValue = string | number | Uint8Array

/**
 * The part of a prepared statement the store calls (better-sqlite3 Statement, node:sqlite
 * StatementSync, bun:sqlite Statement); `get` gives undefined or null when there is no row.
 */
export interface SQLiteStatement {
  run(...params: SQLiteValue[]): { changes: number | bigint }
  get(...params: SQLiteValue[]): unknown
  all(...params: SQLiteValue[]): unknown[]
  /** Frees the statement at once (bun:sqlite); drivers without it free statements on close. */
  finalize?(): void
}

/** The part of a database connection the store calls (better-sqlite3 Database, node:sqlite DatabaseSync, bun:sqlite Database). */
export interface SQLiteDatabase {
  prepare(sql: string): SQLiteStatement
  exec(sql: string): unknown
  close(): unknown
}

/** Options for {@link SQLiteStore}. */
export interface SQLiteStoreOptions {
  /** How often expired rows are deleted, in ms; 0 disables the timer. @default 300_000 (5 min, as sqlite3store) */
  cleanupInterval?: number
  /** Create the table and its expiry index when missing; with false a missing table is a StoreError on use. @default true */
  createTable?: boolean
  /** Rows deleted per batch by `deleteExpired`; the event loop runs between batches. @default 200 */
  cleanupBatchSize?: number
  /** The table; a plain identifier (letters, digits, `_`). @default 'sessions' (Go's sqlite3store) */
  tableName?: string
  /**
   * Receives what the store's timers find wrong: a failed timed cleanup (the timer keeps
   * running), and a database file deleted or replaced while open (or failing to reopen).
   * @default logs with console.error
   */
  onCleanupError?: (error: StoreError) => void
  /**
   * How often the store checks, in ms, that the database's path still names the file it has
   * open: one asynchronous `stat` on an unref'd timer, nothing on a call's path. Once the file
   * was deleted or replaced, every call rejects with a StoreError saying so (writes into it
   * would be lost at the next restart), until a store {@link openSQLiteStore} opened reopens
   * the path at its next check; 0 turns the check off. @default 500
   */
  fileCheckInterval?: number
  /**
   * How long a call waits for another connection's lock, in ms, on timers rather than on the
   * event loop: give the connection `PRAGMA busy_timeout = 0` so SQLite reports the lock at
   * once, and the store tries again every few ms until this runs out, then rejects with
   * SQLITE_BUSY. 0 leaves waiting to the connection's own busy timeout, which blocks the
   * event loop. @default 0 (openSQLiteStore: 5_000, with the connection's timeout at 0)
   */
  busyTimeout?: number
}

/** Options for {@link openSQLiteStore}: the store's options plus its connection's settings. */
export interface OpenSQLiteStoreOptions extends SQLiteStoreOptions {
  /**
   * The SQLite binding to open the file with. @default better-sqlite3 when installed, otherwise
   * the runtime's own (`node:sqlite` on Node ≥ 22.13 and Deno, `bun:sqlite` on Bun)
   */
  driver?: SQLiteDriverName
  /** How long a call waits, asynchronously, for another process's lock, in ms. @default 5_000 */
  busyTimeout?: number
  /**
   * Checkpoint the WAL from a worker thread with its own connection every 100 ms, and run this
   * connection with `wal_autocheckpoint = 0`, so checkpoint fsyncs (tens of ms on a busy disk)
   * never stall the event loop. With false, SQLite checkpoints on commit, on the main thread.
   * @default true for a file, false for ':memory:'
   */
  checkpointThread?: boolean
  /**
   * With the checkpoint thread: the WAL size, in pages, past which the thread holds this store's
   * writes for a moment (they queue; the event loop keeps running) and rewinds the WAL, which
   * a steady stream of writes would otherwise grow without end. @default 16384 (64 MiB of 4 KiB pages)
   */
  walLimitPages?: number
}
