import { StoreError } from '../../errors.js'
import type { Connection } from './connection.js'
import { runOnce } from './driver.js'
import { FileWatch, fileId } from './file-watch.js'
import type { OpenedFile } from './opened.js'
import type { Runner } from './runner.js'
import { MAIN_FILE_SQL } from './sql.js'
import type { SQLiteDatabase } from './types.js'

/** What a {@link FileGuard} watches over and whom it tells. */
export interface FileGuardOptions {
  /** The store's connection, replaced by a reopened one. */
  connection: Connection
  /** The file {@link openSQLiteStore} opened for the store; none for a connection of the user's. */
  opened: OpenedFile | undefined
  /** How the store's calls run: failed while the file is gone, recovered once it is reopened. */
  runner: Runner
  /** How often the path is checked, in ms; 0 checks never. */
  interval: number
  /** Receives what went wrong (the file gone, a reopen failing), as the store's timers report. */
  report: (err: unknown) => void
}

/**
 * The store's watch over its database file: from the first check that finds another file (or
 * none) at the path, every call fails saying why (writes into a deleted file would be lost at
 * the next restart); the next checks open the file at the path again when
 * {@link openSQLiteStore} opened the store, and calls run again. A store on a connection of the
 * user's stays failed.
 */
export class FileGuard {
  readonly #connection: Connection
  readonly #opened: OpenedFile | undefined
  readonly #runner: Runner
  readonly #interval: number
  readonly #report: (err: unknown) => void
  #watch: FileWatch | undefined
  // Why calls fail while the path no longer names the open file; undefined while it does.
  #gone: string | undefined
  // Every connection to the replaced file is closed, so a new one may open at the path.
  #oldClosed = true

  /** Starts the unref'd check when `interval` is above 0 and the connection is on a file. */
  constructor(options: FileGuardOptions) {
    this.#connection = options.connection
    this.#opened = options.opened
    this.#runner = options.runner
    this.#interval = options.interval
    this.#report = options.report
    if (this.#interval === 0) return
    const path = this.#opened === undefined ? mainFile(this.#connection.db) : this.#opened.path
    if (path === undefined || fileId(path) === undefined) return
    this.#watch = new FileWatch(path, this.#interval, (same) => this.#checked(same))
  }

  // Lets go of the old file: its checkpoint thread and the store's connection close now, while
  // the path names no other open database.
  #letGo(opened: OpenedFile): void {
    this.#oldClosed = false
    const checkpointer = opened.checkpointer
    checkpointer?.stop()
    try {
      this.#connection.release()
    } catch (err) {
      this.#report(err)
    }
    if (checkpointer === undefined) this.#oldClosed = true
    else {
      const closed = (): void => {
        this.#oldClosed = true
      }
      checkpointer.exited.then(closed, closed)
    }
  }

  /** Stops the checks; idempotent. */
  stop(): void {
    this.#watch?.stop()
  }

  #checked(same: boolean): void {
    const path = JSON.stringify(this.#watch?.path)
    if (this.#gone === undefined) {
      if (same) return
      const reopen =
        this.#opened?.reopen === undefined
          ? 'this store cannot reopen a connection it did not open: open a new connection to the file and a new SQLiteStore on it (openSQLiteStore reopens by itself)'
          : `the store opens the file at that path again by itself (creating it when missing) at its next check, within ${this.#interval} ms`
      this.#gone = `the database file ${path} was deleted or replaced while the store had it open, and what it wrote there would be lost; ${reopen}`
      // Writes still waiting for a lock were never acknowledged: they must not reach it either.
      this.#runner.fail(this.#gone)
      this.#report(new StoreError(`SQLiteStore: ${this.#gone}`))
      if (this.#opened?.reopen !== undefined) this.#letGo(this.#opened)
      return
    }
    const reopen = this.#opened?.reopen
    // The old file's connections close before a new one opens (a closing connection deletes
    // the -wal its path names): the checkpoint thread's may still be on its way out.
    if (reopen === undefined || !this.#oldClosed) return
    let db: SQLiteDatabase
    try {
      // As at open, the schema waits synchronously for another process's lock, once.
      db = reopen((next) => this.#connection.createSchema(next))
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      const gone = `the database file ${path} was deleted or replaced while the store had it open, and opening the file at that path again failed: ${why}; the store tries again every check`
      if (gone !== this.#gone) this.#report(new StoreError(`SQLiteStore: ${gone}`))
      this.#gone = gone
      this.#runner.fail(gone)
      return
    }
    try {
      this.#connection.replace(db)
    } catch (err) {
      // The old connection would not close; the new one is in place all the same.
      this.#report(err)
    }
    this.#watch?.rebase()
    this.#gone = undefined
    this.#runner.recover()
  }
}

// The file a connection of the user's has open, as SQLite names it ('' for memory or temp).
function mainFile(db: SQLiteDatabase): string | undefined {
  try {
    const row = runOnce(db, MAIN_FILE_SQL, (s) => s.get()) as { file?: unknown } | null | undefined
    if (typeof row?.file === 'string' && row.file !== '') return row.file
  } catch {
    // Not a connection SQLite can describe (a test's stand-in): nothing to watch.
  }
  return undefined
}
