import type { WriteGroup } from './batch.js'
import type { Checkpointer } from './checkpointer.js'
import type { FileId } from './file-watch.js'
import type { SQLiteDatabase } from './types.js'

/**
 * The opener's answer to SQLITE_FULL. A write that meets a full disk starts a reclaim (the WAL's
 * old frames are the only space SQLite can give back); until it succeeds, writes fail at once
 * without touching the file, so they cannot eat the space the reclaim needs.
 */
export interface DiskPressure {
  full: boolean
  reclaim(): void
}

/**
 * What {@link openSQLiteStore} and the store it opened share, handed to the store's constructor:
 * the store owns the connection and closes it (and asks the checkpoint thread to end); the opener
 * keeps the thread and the full-disk reclaim here while they run; the store puts its write group
 * here for the thread to hold and release. When the file is deleted or replaced under the store,
 * the store asks `reopen` for a connection to whatever file the path names then.
 */
export class OpenedFile {
  /** The absolute path of the database file, for a plain path (none for memory or a `file:` URI). */
  path: string | undefined
  /**
   * Opens the file at `path` again (creating it when missing) with the opener's settings, runs
   * `prepare` (the store's schema) on the new connection, moves the checkpoint thread and the
   * full-disk reclaim over to it and returns it; the store then closes the old one. Throws a
   * StoreError saying what stands in the way (a missing folder, an unwritable file), having
   * left the old connection and thread as they were.
   */
  reopen: ((prepare: (db: SQLiteDatabase) => void) => SQLiteDatabase) | undefined
  /** The `-wal` and `-shm` of the open file, removed before a new file is opened at the path. */
  sidecars: ReadonlyMap<string, FileId> = new Map()
  /** Settles once the checkpoint threads of earlier connections have ended. */
  retired: Promise<unknown> = Promise.resolve()
  /** The checkpoint thread, while it runs. */
  checkpointer: Checkpointer | undefined
  /** The full-disk reclaim for this file's connection (none for an in-memory database). */
  pressure: DiskPressure | undefined
  /** The store's write group, set by the store. */
  writes: WriteGroup | undefined
  /** Set while the connection checkpoints as it commits after a full disk. */
  smallWalTimer: NodeJS.Timeout | undefined
}
