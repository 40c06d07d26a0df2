import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** Where and how often a checkpoint thread works. */
export interface CheckpointerOptions {
  /** The database file. */
  path: string
  /** How often the thread runs a PASSIVE WAL checkpoint, in ms. */
  interval: number
  busyTimeout: number
  /** Called once if the thread stops without being asked (a crash), so the caller can take over. */
  onExit(): void
}

/** A running checkpoint thread; `stop` ends it without waiting. */
export interface Checkpointer {
  stop(): void
}

// Plain CommonJS evaluated as the worker's source, so it runs the same from src/ (tsx, vitest)
// and from dist/ without a loader. PASSIVE checkpoints never block this process's writers, and
// their fsyncs, which take tens of ms on a busy disk, happen off the main thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.path, { timeout: workerData.busyTimeout })
db.exec('PRAGMA synchronous = NORMAL')
const timer = setInterval(() => {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)')
  } catch {}
}, workerData.interval)
parentPort.on('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
`

/**
 * Starts an unref'd worker thread with its own better-sqlite3 connection to `path` that
 * checkpoints the WAL every `interval` ms, so the main connection can run with
 * `wal_autocheckpoint = 0` and never fsync on the event loop.
 */
export function startCheckpointer(options: CheckpointerOptions): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path: options.path,
      interval: options.interval,
      busyTimeout: options.busyTimeout,
      driver,
    },
  })
  worker.unref()
  let stopping = false
  worker.on('error', () => {
    // The exit handler below hands checkpointing back; the error itself has no caller to reach.
  })
  worker.once('exit', () => {
    if (!stopping) options.onExit()
  })
  return {
    stop() {
      if (stopping) return
      stopping = true
      worker.postMessage('close')
    },
  }
}
