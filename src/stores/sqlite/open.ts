import { resolve } from 'node:path'
import { StoreError } from '../../errors.js'
import { assertWritable } from './access.js'
import { startCheckpointer } from './checkpointer.js'
import { openSQLiteDatabase, runOnce } from './driver.js'
import { logCleanupError, toSQLiteStoreError } from './errors.js'
import { fileId, removeStaleSidecars, sidecarIds } from './file-watch.js'
import { type DiskPressure, OpenedFile } from './opened.js'
import { openSettings } from './options.js'
import { SQLiteStore } from './store.js'
import type { OpenSQLiteStoreOptions, SQLiteDatabase } from './types.js'

/**
 * Opens (creating when missing) the SQLite file at `path` with the chosen driver, sets WAL,
 * `synchronous = NORMAL` and a busy timeout so several processes can share it, creates the schema
 * and returns a store that owns the connection: its `close()` closes it. Throws a StoreError
 * saying what to do when the file cannot be opened (a missing folder, a folder given as the
 * file, a file this process may not write), a TypeError or RangeError naming a bad argument.
 * When the file is later deleted or replaced, the store fails calls for a moment and then opens
 * the file at `path` again by itself (see `fileCheckInterval`).
 *
 * @example
 * const store = openSQLiteStore('sessions.db')
 */
export function openSQLiteStore(path: string, options: OpenSQLiteStoreOptions = {}): SQLiteStore {
  if (typeof path !== 'string') {
    throw new TypeError(
      `openSQLiteStore: path must be a string, the database file's path (for example 'sessions.db') or ':memory:', got ${describe(path)}`,
    )
  }
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`openSQLiteStore: options must be an object, got ${describe(options)}`)
  }
  const settings = openSettings(options)
  const { driver, busyTimeout, checkpointThread, walLimitPages, tableName: table } = settings
  const inMemory = path === '' || path === ':memory:' || path.startsWith('file::memory:')
  const plain = !inMemory && !path.startsWith('file:')
  // Absolute, so a reopen after the app changed its working folder finds the same file.
  const target = plain ? resolve(path) : path
  if (plain) assertWritable(path)
  const connect = (): SQLiteDatabase => {
    let db: SQLiteDatabase
    try {
      db = openSQLiteDatabase(target, driver)
    } catch (err) {
      throw toSQLiteStoreError(err, `open of ${JSON.stringify(path)}`, table)
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${busyTimeout}`)
      db.exec('PRAGMA journal_mode = WAL')
      db.exec('PRAGMA synchronous = NORMAL')
    } catch (err) {
      closeQuietly(db)
      throw toSQLiteStoreError(err, `open of ${JSON.stringify(path)}`, table)
    }
    return db
  }
  const file = new OpenedFile()
  let store: SQLiteStore | undefined
  // Everything after the schema, for the first connection and for each reopened one.
  const attach = (db: SQLiteDatabase, opened: SQLiteStore): void => {
    // The schema is in place (waited for synchronously, once, at open); from now on SQLite
    // reports a lock at once and the store waits for it on timers, off the event loop.
    db.exec('PRAGMA busy_timeout = 0')
    if (checkpointThread ?? !inMemory) {
      db.exec('PRAGMA wal_autocheckpoint = 0')
      // The thread's RESTART rewinds the WAL without shrinking the file; past a burst (a long
      // reader held it back) SQLite cuts the file back to the limit when it next rewinds.
      const { page_size: pageSize } = runOnce(db, 'PRAGMA page_size', (s) => s.get()) as {
        page_size: number
      }
      const limitBytes = Math.min(walLimitPages * pageSize, Number.MAX_SAFE_INTEGER)
      db.exec(`PRAGMA journal_size_limit = ${limitBytes}`)
      const checkpointer = startCheckpointer({
        path: target,
        file: fileId(target),
        driver,
        interval: 100,
        busyTimeout,
        walLimitPages,
        hold: () => file.writes?.hold(),
        release: () => file.writes?.release(),
        onReclaimed: () => {
          if (file.pressure !== undefined) file.pressure.full = false
          keepWalSmall(db, opened, file)
        },
        onPinned: (walBytes) => {
          try {
            ;(settings.store.onCleanupError ?? logCleanupError)(
              pinnedWal(path, walBytes, limitBytes),
            )
          } catch {
            // A throwing handler must not take the checkpoint thread's messages down with it.
          }
        },
        onExit: () => {
          // Without the thread nobody would checkpoint: hand the job back to this connection.
          file.checkpointer = undefined
          file.pressure = reclaimOnThisThread(db)
          try {
            if (!opened.closed) db.exec('PRAGMA wal_autocheckpoint = 1000')
          } catch {
            // The connection is gone too; there is nothing left to checkpoint.
          }
        },
      })
      file.checkpointer = checkpointer
      let asked = Number.NEGATIVE_INFINITY
      file.pressure = {
        full: false,
        // Once per checkpoint tick is enough, however many writes fail meanwhile.
        reclaim() {
          if (performance.now() - asked < 100) return
          asked = performance.now()
          checkpointer.reclaim()
        },
      }
    } else if (!inMemory) {
      file.pressure = reclaimOnThisThread(db)
    }
  }
  if (plain) {
    file.path = target
    file.reopen = (prepare) => {
      assertWritable(target)
      // SQLite leaves a deleted database's -wal and -shm behind; a new file beside them would
      // take that old WAL for its own and replay another database's pages into itself.
      removeStaleSidecars(file.sidecars)
      const db = connect()
      const old = file.checkpointer
      const oldPressure = file.pressure
      try {
        prepare(db)
        attach(db, store as SQLiteStore)
      } catch (err) {
        if (file.checkpointer !== old) file.checkpointer?.stop()
        file.checkpointer = old
        file.pressure = oldPressure
        closeQuietly(db)
        throw toSQLiteStoreError(err, `reopen of ${JSON.stringify(path)}`, table)
      }
      if (old !== undefined && old !== file.checkpointer) {
        old.stop()
        file.retired = Promise.all([file.retired, old.exited])
      }
      clearTimeout(file.smallWalTimer)
      file.smallWalTimer = undefined
      file.sidecars = sidecarIds(target)
      return db
    }
  }
  const db = connect()
  try {
    store = new SQLiteStore(db, { ...settings.store, busyTimeout }, file)
    attach(db, store)
    if (plain) file.sidecars = sidecarIds(target)
    return store
  } catch (err) {
    // Closing the store stops its timers and closes the connection it now owns.
    if (store === undefined) closeQuietly(db)
    else store.close()
    throw err instanceof RangeError || err instanceof TypeError
      ? err
      : toSQLiteStoreError(err, `open of ${JSON.stringify(path)}`, table)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  return typeof value === 'string' ? JSON.stringify(value) : typeof value
}

function closeQuietly(db: SQLiteDatabase): void {
  try {
    db.close()
  } catch {
    // Already unusable; the error that brought us here is the one to report.
  }
}

// For a minute after a full disk, this connection checkpoints as it commits (SQLite then rewinds
// the WAL once a checkpoint has caught up), so a burst of writes cannot grow the WAL back over the
// space just given back before the checkpoint thread's next tick.
const SMALL_WAL_PAGES = 256
const SMALL_WAL_MS = 60_000
function keepWalSmall(db: SQLiteDatabase, store: SQLiteStore, file: OpenedFile): void {
  try {
    db.exec(`PRAGMA wal_autocheckpoint = ${SMALL_WAL_PAGES}`)
  } catch {
    return
  }
  clearTimeout(file.smallWalTimer)
  const timer = setTimeout(() => {
    file.smallWalTimer = undefined
    try {
      if (!store.closed && file.checkpointer !== undefined) db.exec('PRAGMA wal_autocheckpoint = 0')
    } catch {
      // Closed meanwhile: nothing to restore.
    }
  }, SMALL_WAL_MS)
  timer.unref()
  file.smallWalTimer = timer
}

// Without a checkpoint thread the reclaim runs here, now and then: a TRUNCATE checkpoint on
// this thread costs a full fsync, and during a full disk every write would ask for one.
function reclaimOnThisThread(db: SQLiteDatabase): DiskPressure {
  let last = Number.NEGATIVE_INFINITY
  const pressure: DiskPressure = {
    full: false,
    reclaim() {
      if (performance.now() - last < 250) return
      last = performance.now()
      try {
        const [row] = runOnce(db, 'PRAGMA wal_checkpoint(TRUNCATE)', (s) => s.all()) as {
          busy: number
        }[]
        if (row?.busy === 0) pressure.full = false
      } catch {
        // Still full, or locked: the next write tries again.
      }
    },
  }
  return pressure
}

// A long read transaction in another connection keeps the WAL from being rewound, so it grows
// past its limit until that reader ends; the store can only say so.
function pinnedWal(path: string, walBytes: number, limitBytes: number): StoreError {
  const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`
  return new StoreError(
    `SQLiteStore: the WAL of ${JSON.stringify(path)} is ${mib(walBytes)}, past its ${mib(limitBytes)} limit, and cannot be rewound: another connection holds a read transaction open (a long query, an open cursor, a backup). It shrinks once that reader ends; this is said once until it does`,
  )
}
