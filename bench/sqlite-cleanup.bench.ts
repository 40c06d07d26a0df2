// `npm run bench:cleanup`: how long SQLiteStore#deleteExpired stalls the event loop while it
// removes 1,000,000 expired rows under a concurrent find/commit load in the same process.
// Goal: the largest stall stays under 50 ms. Not a CI test; numbers go in docs/stores.md.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import Database from 'better-sqlite3'
import { openSQLiteStore } from '../src/stores/sqlite/index.ts'

const EXPIRED = Number(process.env.ROWS ?? 1_000_000)
const LIVE = 10_000
const CLIENTS = 8
// BATCH=n sets cleanupBatchSize; CHECKPOINT_THREAD=0 leaves checkpoints on the main thread.
const batchSize = process.env.BATCH === undefined ? undefined : Number(process.env.BATCH)

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-cleanup-bench-'))
const file = join(dir, 'sessions.db')
const token = (): string => randomBytes(32).toString('base64url')
const payload = randomBytes(120)

try {
  const store = openSQLiteStore(file, {
    cleanupInterval: 0,
    cleanupBatchSize: batchSize,
    checkpointThread: process.env.CHECKPOINT_THREAD !== '0',
  })
  const seed = new Database(file)
  seed.pragma('journal_mode = WAL')
  const insert = seed.prepare(`INSERT INTO sessions VALUES (?, ?, julianday('now', ?))`)
  const live: string[] = []
  const t = performance.now()
  seed.transaction(() => {
    for (let i = 0; i < EXPIRED; i++) insert.run(token(), payload, '-1 hour')
    for (let i = 0; i < LIVE; i++) {
      const k = token()
      live.push(k)
      insert.run(k, payload, '+1 hour')
    }
  })()
  seed.pragma('wal_checkpoint(TRUNCATE)')
  seed.close()
  // Collect the seeding garbage now, so a major GC of it is not counted as a cleanup stall.
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
  console.log(
    `seeded ${EXPIRED.toLocaleString()} expired + ${LIVE.toLocaleString()} live rows in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  )

  // Each client is one request per event-loop turn: find a live session, write it back.
  let running = true
  let ops = 0
  let maxOpMs = 0
  const client = async (n: number): Promise<void> => {
    let i = n
    while (running) {
      i += CLIENTS
      const k = live[i % LIVE] as string
      const started = performance.now()
      const data = await store.find(k)
      if (data === undefined) throw new Error(`live session ${k} went missing`)
      await store.commit(k, data, new Date(Date.now() + 3_600_000), 'update')
      maxOpMs = Math.max(maxOpMs, performance.now() - started)
      ops++
      await nextTurn()
    }
  }

  const measure = async (label: string, work: () => Promise<unknown>) => {
    ops = 0
    maxOpMs = 0
    let maxGcMs = 0
    const gcs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration)
    })
    gcs.observe({ entryTypes: ['gc'] })
    const histogram = monitorEventLoopDelay({ resolution: 1 })
    histogram.enable()
    const started = performance.now()
    const result = await work()
    const seconds = (performance.now() - started) / 1000
    histogram.disable()
    gcs.disconnect()
    const ms = (ns: number) => (ns / 1e6).toFixed(1)
    console.log(
      `${label}: ${seconds.toFixed(2)} s, event-loop delay max ${ms(histogram.max)} ms, p99 ${ms(histogram.percentile(99))} ms, mean ${ms(histogram.mean)} ms; load ${Math.round(ops / seconds).toLocaleString()} find+commit/s, slowest ${maxOpMs.toFixed(1)} ms; longest GC ${maxGcMs.toFixed(1)} ms${result === undefined ? '' : `; result ${result}`}`,
    )
    return { seconds, maxStallMs: histogram.max / 1e6 }
  }

  const clients = Array.from({ length: CLIENTS }, (_, n) => client(n))
  await measure('baseline (load only, 2 s)', () => new Promise((r) => setTimeout(r, 2_000)))
  const run = await measure(`deleteExpired (batch ${batchSize ?? 'default'})`, async () => {
    const deleted = await store.deleteExpired()
    if (deleted !== EXPIRED) throw new Error(`deleted ${deleted}, expected ${EXPIRED}`)
    return deleted
  })
  running = false
  await Promise.all(clients)
  const left = (await store.all()).size
  store.close()
  console.log(
    `largest stall ${run.maxStallMs.toFixed(1)} ms (goal < 50 ms): ${run.maxStallMs < 50 ? 'met' : 'MISSED'}; ${Math.round(EXPIRED / run.seconds).toLocaleString()} rows/s; ${left.toLocaleString()} live rows left (expected ${LIVE.toLocaleString()})`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
