import { Worker } from 'node:worker_threads'
import { type SQLiteDriverName, workerModule, workerOpenSource } from './driver.js'
import type { FileId } from './file-watch.js'

/** Where and how often a checkpoint thread works. */
export interface CheckpointerOptions {
  /** The database file. */
  path: string
  /** The file the main connection opened at `path`; the thread opens nothing else. */
  file?: FileId
  /** The binding the thread opens its own connection with (the main connection's). */
  driver: SQLiteDriverName
  /** How often the thread runs a PASSIVE WAL checkpoint, in ms. */
  interval: number
  busyTimeout: number
  /** WAL size, in pages, past which the thread holds this process's writes and rewinds the WAL. */
  walLimitPages: number
  /** Stop starting writes until `release`; the thread rewinds the WAL meanwhile. */
  hold(): void
  /** Writes may start again (also called when the thread stops while holding). */
  release(): void
  /** Called once if the thread stops without being asked (a crash), so the caller can take over. */
  onExit(): void
  /** Called once per episode in which another connection's read keeps the WAL past the limit. */
  onPinned(walBytes: number): void
  /** Called when a `reclaim` has cut the WAL to nothing. */
  onReclaimed(): void
}

/** A running checkpoint thread; `stop` asks it to end without waiting, `exited` settles once it has. */
export interface Checkpointer {
  /** Asks the thread to checkpoint all of the WAL and cut it to nothing: the disk is full. */
  reclaim(): void
  stop(): void
  /** Resolves once the thread has closed its connection and ended; never rejects. */
  readonly exited: Promise<void>
}

// Plain CommonJS evaluated as the worker's source, so it runs the same from src/ (tsx, vitest)
// and from dist/ without a loader. PASSIVE checkpoints never block this process's writers, and
// their fsyncs, which take tens of ms on a busy disk, happen off the main thread.
//
// Under a steady stream of writes a PASSIVE checkpoint never catches the WAL's end, and SQLite
// only rewinds the WAL once it has: the file grew by gigabytes a minute in a load test. So when
// it passes the limit the thread asks the main thread to hold its writes (they queue, the event
// loop runs on), runs a RESTART checkpoint, which rewinds the WAL to its start, while no writer
// is waiting, then lets them go. RESTART rather than TRUNCATE: reusing the file's blocks is
// cheaper than cutting the file and growing it again (a write's p99 wait 2.3 ms against 7.0 ms).
const RESTART_WAIT_MS = 50
// After a rewind that could not finish, wait 1, 2, 4 … up to 64 ticks before the next try.
const MAX_BACKOFF_TICKS = 64
// This many failed rewinds in a row (about 0.7 s of backoff) make an episode worth a warning.
const PINNED_AFTER = 4
const workerSource = (driver: SQLiteDriverName): string => `
const { parentPort, workerData } = require('node:worker_threads')
const { statSync } = require('node:fs')
// The thread opens the path after the main connection did; a file moved over the path meanwhile
// would take the old file's WAL, still beside it, for its own and replay it. It ends instead (the
// main thread takes checkpointing back), before and after opening.
const samePath = () => {
  if (workerData.file === undefined) return true
  try {
    const info = statSync(workerData.path, { bigint: true })
    return String(info.dev) === workerData.file.dev && String(info.ino) === workerData.file.ino
  } catch {
    return false
  }
}
if (!samePath()) throw new Error('the database file was replaced before the checkpoint thread opened it')
const db = ${workerOpenSource(driver)}
if (!samePath()) {
  db.close()
  throw new Error('the database file was replaced while the checkpoint thread opened it')
}
db.exec('PRAGMA busy_timeout = ' + workerData.busyTimeout)
db.exec('PRAGMA synchronous = NORMAL')
// RESTART holds the write lock while it waits for readers; another process's long read must
// not keep this process's writers waiting, so it gives up quickly and tries again later.
db.exec('PRAGMA busy_timeout = ${RESTART_WAIT_MS}')
const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)')
const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)')
const pageSize = db.prepare('PRAGMA page_size').get().page_size
let holding = false
let skip = 0
let backoff = 1
// A full disk: the WAL's old frames are the only space to give back, so cut it to nothing.
let reclaim = false
// Rewinds that another connection's read transaction kept from finishing, in a row.
let pinned = 0
let warned = false
let walPages = 0
const timer = setInterval(() => {
  if (holding) return
  try {
    walPages = passive.get().log
  } catch {
    // On a full disk the checkpoint cannot grow the database file: a reclaim may still help.
  }
  const over = walPages > workerData.walLimitPages
  if (skip > 0) {
    skip--
  } else if (over || reclaim) {
    holding = true
    parentPort.postMessage('hold')
  }
}, workerData.interval)
parentPort.on('message', (message) => {
  if (message === 'reclaim') {
    // A write just failed on the full disk: try at the next tick, whatever the backoff says.
    reclaim = true
    skip = 0
    return
  }
  if (message === 'held') {
    let done = false
    try {
      done = (reclaim ? truncate : restart).get().busy === 0
    } catch {}
    if (done) {
      backoff = 1
      if (reclaim) parentPort.postMessage('reclaimed')
      reclaim = false
      pinned = 0
      warned = false
    } else {
      skip = backoff
      backoff = Math.min(backoff * 2, ${MAX_BACKOFF_TICKS})
      if (++pinned >= ${PINNED_AFTER} && !warned && walPages > workerData.walLimitPages) {
        warned = true
        parentPort.postMessage({ pinned: walPages * pageSize })
      }
    }
    holding = false
    parentPort.postMessage('release')
    return
  }
  clearInterval(timer)
  // bun:sqlite leaves the file open until its statements are finalized.
  for (const statement of [passive, restart, truncate]) statement.finalize?.()
  db.close()
  // Deno's parentPort has no close(); there process.exit ends this thread alone.
  if (typeof parentPort.close === 'function') parentPort.close()
  else process.exit(0)
})
`

// Writes resume after this long even if the thread never says so (a checkpoint stuck on
// another process's lock); they then wait on the busy timeout as any writer would.
const MAX_HOLD_MS = 1_000

/**
 * Starts an unref'd worker thread with its own connection (same driver as the caller's) to `path` that
 * checkpoints the WAL every `interval` ms, so the main connection can run with
 * `wal_autocheckpoint = 0` and never fsync on the event loop, and that keeps the WAL under
 * `walLimitPages` by rewinding it between `hold` and `release`.
 */
export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const worker = new Worker(workerSource(options.driver), {
    eval: true,
    workerData: {
      path: options.path,
      file:
        options.file === undefined
          ? undefined
          : { dev: String(options.file.dev), ino: String(options.file.ino) },
      interval: options.interval,
      busyTimeout: options.busyTimeout,
      walLimitPages: options.walLimitPages,
      module: workerModule(options.driver),
    },
  })
  let stopping = false
  let holdTimer: NodeJS.Timeout | undefined
  const release = (): void => {
    if (holdTimer === undefined) return
    clearTimeout(holdTimer)
    holdTimer = undefined
    options.release()
  }
  worker.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'pinned' in message) {
      options.onPinned(Number((message as { pinned: unknown }).pinned))
    } else if (message === 'reclaimed') {
      options.onReclaimed()
    } else if (message === 'release') {
      release()
    } else if (message === 'hold' && !stopping) {
      options.hold()
      // Ref'd while it lasts (at most MAX_HOLD_MS): held writes are someone's awaited work, and
      // the process must not exit before the thread lets them go.
      holdTimer = setTimeout(release, MAX_HOLD_MS)
      worker.postMessage('held')
    }
  })
  worker.on('error', () => {
    // The exit handler below hands checkpointing back; the error itself has no caller to reach.
  })
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      release()
      if (!stopping) options.onExit()
      resolve()
    })
  })
  // Last: a 'message' listener refs the worker's port again, so an unref made before it would
  // be undone and the thread would keep the process alive.
  worker.unref()
  return {
    exited,
    reclaim() {
      if (!stopping) worker.postMessage('reclaim')
    },
    stop() {
      if (stopping) return
      stopping = true
      release()
      worker.postMessage('close')
    },
  }
}
