import type { WriteGroup } from './batch.js'
import type { Checkpointer } from './checkpointer.js'

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
 * here for the thread to hold and release.
 */
export class OpenedFile {
  /** The checkpoint thread, while it runs. */
  checkpointer: Checkpointer | undefined
  /** The full-disk reclaim for this file's connection (none for an in-memory database). */
  pressure: DiskPressure | undefined
  /** The store's write group, set by the store. */
  writes: WriteGroup | undefined
  /** Set while the connection checkpoints as it commits after a full disk. */
  smallWalTimer: NodeJS.Timeout | undefined
}
