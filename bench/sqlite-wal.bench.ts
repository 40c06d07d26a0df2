// `npm run bench:wal`: how large the WAL grows under a steady stream of new sessions, with the
// opener's checkpoint thread truncating it past walLimitPages and with that limit out of reach,
// and what the truncation costs: the event loop's largest stall and the longest wait of a write.
// Not a CI test; numbers go in docs/stores.md. WAL_BENCH_SECONDS (default 8) and PER_TURN (default 30).
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { openSQLiteStore } from '../src/stores/sqlite/index.ts'

const SECONDS = Number(process.env.WAL_BENCH_SECONDS ?? 8)
const PER_TURN = Number(process.env.PER_TURN ?? 30)
const MiB = 2 ** 20

const payload = new TextEncoder().encode(
  JSON.stringify({ d: Date.now(), v: { message: 'Hello from a session!' } }),
)

async function run(label: string, walLimitPages: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-wal-bench-'))
  const file = join(dir, 'sessions.db')
  const wal = (): number => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0)
  const store = openSQLiteStore(file, { cleanupInterval: 0, walLimitPages })
  const delay = monitorEventLoopDelay({ resolution: 1 })
  let largestWal = 0
  const sampler = setInterval(() => {
    largestWal = Math.max(largestWal, wal())
  }, 50)
  let writes = 0
  const groupMs: number[] = []
  try {
    delay.enable()
    const until = Date.now() + SECONDS * 1000
    const expiry = new Date(Date.now() + 86_400_000)
    while (Date.now() < until) {
      const started = performance.now()
      await Promise.all(
        Array.from({ length: PER_TURN }, () =>
          store.commit(randomBytes(32).toString('base64url'), payload, expiry),
        ),
      )
      groupMs.push(performance.now() - started)
      writes += PER_TURN
      // About what a request handler costs besides the store, so the loop is not all SQLite.
      const busyUntil = performance.now() + 1
      while (performance.now() < busyUntil) {}
      await nextTurn()
    }
    delay.disable()
    clearInterval(sampler)
    groupMs.sort((a, b) => a - b)
    const p99 = groupMs[Math.floor(groupMs.length * 0.99)] ?? 0
    const slowestGroup = groupMs[groupMs.length - 1] ?? 0
    console.log(
      `${label.padEnd(34)} ${Math.round(writes / SECONDS).toLocaleString('en-US')} writes/s, ` +
        `WAL largest ${(largestWal / MiB).toFixed(1)} MiB, at the end ${(wal() / MiB).toFixed(1)} MiB, ` +
        `database ${(statSync(file).size / MiB).toFixed(1)} MiB; event-loop stall max ` +
        `${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; ` +
        `wait of a group of ${PER_TURN} writes p99 ${p99.toFixed(1)} ms, max ${slowestGroup.toFixed(1)} ms`,
    )
  } finally {
    clearInterval(sampler)
    store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`${SECONDS} s of new sessions, ${PER_TURN} commits per event-loop turn, one process`)
await run('walLimitPages 16384 (default)', 16384)
await run('no limit (PASSIVE checkpoints only)', Number.MAX_SAFE_INTEGER)
