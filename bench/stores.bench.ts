// `npm run bench:stores`: what SQLiteStore costs over the same statements run raw on
// better-sqlite3 with the same pragmas (goal ≤ 1.3× the raw cost), and whether find latency
// stays flat at 10k, 100k and 1M rows, and what waiting for locks on timers (the opener's
// default) costs against the driver's own blocking wait. One process, one run; not a CI test.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openSQLiteStore, SQLiteStore } from '../src/stores/sqlite/index.ts'
import { schemaSQL, statementsSQL } from '../src/stores/sqlite/sql.ts'
import { median, type Op, opsPerSecond, rawRunner, storeRunner } from './lib/store-runner.ts'

const KEYS = 10_000
const OPS = 20_000
const ROUNDS = 15
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-stores-bench-'))
const token = (): string => randomBytes(32).toString('base64url')
const data = randomBytes(200)
const expiry = new Date(Date.now() + 3_600_000)
const WORKLOAD = { ops: OPS, keys: KEYS, data, expiry }

function openRaw(file: string) {
  const db = new Database(file, { timeout: 5_000 })
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  const schema = schemaSQL('sessions')
  db.exec(schema.table)
  db.exec(schema.index)
  const sql = statementsSQL('sessions')
  return {
    db,
    find: db.prepare(sql.find),
    upsert: db.prepare(sql.upsert),
    delete: db.prepare(sql.delete),
  }
}

try {
  // The ratio compares like with like: SQLite checkpoints on commit on both sides. The default
  // opener (a checkpoint thread, wal_autocheckpoint = 0 here) is measured alongside.
  const store = openSQLiteStore(join(dir, 'store.db'), {
    cleanupInterval: 0,
    checkpointThread: false,
  })
  const threaded = openSQLiteStore(join(dir, 'threaded.db'), { cleanupInterval: 0 })
  const raw = openRaw(join(dir, 'raw.db'))
  // The store before lock waits moved off the event loop: SQLite's busy handler waits instead.
  const blockingDb = openRaw(join(dir, 'blocking.db')).db
  const blocking = new SQLiteStore(blockingDb, { cleanupInterval: 0 })
  const runners = {
    store: storeRunner(store, WORKLOAD),
    raw: rawRunner(raw, WORKLOAD),
    threaded: storeRunner(threaded, WORKLOAD),
    blocking: storeRunner(blocking, WORKLOAD),
  }
  type Side = keyof typeof runners
  const results: Record<Side, Record<Op, number[]>> = {
    store: { find: [], commit: [], delete: [] },
    raw: { find: [], commit: [], delete: [] },
    threaded: { find: [], commit: [], delete: [] },
    blocking: { find: [], commit: [], delete: [] },
  }
  for (let round = 0; round <= ROUNDS; round++) {
    // Rotate who goes first so drift in the machine hits every side alike; round 0 warms up.
    const sides: Side[] = ['store', 'raw', 'threaded', 'blocking']
    const order = [...sides.slice(round % 4), ...sides.slice(0, round % 4)]
    for (const side of order) {
      const keys = Array.from({ length: KEYS }, token)
      const r = runners[side]
      const commit = await opsPerSecond(() => r.commit(keys), OPS)
      const find = await opsPerSecond(() => r.find(keys), OPS)
      const del = await opsPerSecond(() => r.delete(keys), KEYS)
      if (round === 0) continue
      results[side].commit.push(commit)
      results[side].find.push(find)
      results[side].delete.push(del)
    }
  }
  // Each round's ratio pairs runs made seconds apart, so machine drift cancels; report medians.
  const ratio = (side: Side, op: Op) =>
    median(results.raw[op].map((w, i) => w / (results[side][op][i] as number)))
  console.log(
    `ops/s, median of ${ROUNDS} rounds (${OPS.toLocaleString()} ops, ${KEYS.toLocaleString()} keys):`,
  )
  console.log(
    'op      SQLiteStore      raw   cost ratio (goal ≤ 1.30×)   default opener (checkpoint thread)',
  )
  for (const op of ['find', 'commit', 'delete'] as const) {
    const s = median(results.store[op])
    const w = median(results.raw[op])
    const t = median(results.threaded[op])
    console.log(
      `${op.padEnd(7)} ${Math.round(s).toLocaleString().padStart(11)} ${Math.round(w).toLocaleString().padStart(8)}   ${ratio('store', op).toFixed(2)}×${' '.repeat(21)}${Math.round(t).toLocaleString().padStart(8)} (${ratio('threaded', op).toFixed(2)}×)`,
    )
  }
  const vsBlocking = (op: Op) =>
    median(results.blocking[op].map((b, i) => b / (results.store[op][i] as number)))
  console.log(
    `\nlock waits on timers (busyTimeout, connection busy_timeout 0) against the driver's blocking wait, cost ratio (goal ≤ 1.05×): ${(['find', 'commit', 'delete'] as const).map((op) => `${op} ${vsBlocking(op).toFixed(2)}×`).join(', ')}`,
  )
  raw.db.close()
  threaded.close()
  blocking.close()
  blockingDb.close()

  console.log('\nfind latency (µs) on SQLiteStore by table size:')
  console.log('rows        p50    p99   mean')
  const keys: string[] = []
  const fill = new Database(join(dir, 'store.db'))
  const insert = fill.prepare(`INSERT INTO sessions VALUES (?, ?, julianday('now', '+1 hour'))`)
  for (const size of [10_000, 100_000, 1_000_000]) {
    fill.transaction(() => {
      while (keys.length < size) {
        const k = token()
        keys.push(k)
        insert.run(k, data)
      }
    })()
    fill.pragma('wal_checkpoint(TRUNCATE)')
    const times: number[] = []
    for (let i = 0; i < OPS; i++) {
      const k = keys[Math.floor(Math.random() * keys.length)] as string
      const started = process.hrtime.bigint()
      const found = await store.find(k)
      times.push(Number(process.hrtime.bigint() - started) / 1_000)
      if (found === undefined) throw new Error(`row ${k} missing`)
    }
    times.sort((a, b) => a - b)
    const mean = times.reduce((a, b) => a + b, 0) / times.length
    const p = (q: number) => (times[Math.floor(q * (times.length - 1))] as number).toFixed(1)
    console.log(
      `${size.toLocaleString().padEnd(10)} ${p(0.5).padStart(5)} ${p(0.99).padStart(6)} ${mean.toFixed(1).padStart(6)}`,
    )
  }
  fill.close()
  store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
