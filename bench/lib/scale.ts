import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { jsonCodec } from '../../src/index.ts'
import { CONTENDERS, ServerProcess } from './contenders.ts'
import type { LoadGenerator } from './load.ts'
import type { LoadPlan } from './matrix.ts'
import { MESSAGE } from './settings.ts'
import { formatBytes, formatRps, median, percentile } from './stats.ts'

/** The scale section of results.md. */
export interface ScaleResult {
  markdown: string
}

interface SizePoint {
  rows: number
  insertMs: number
  bytes: number
  findP50: number
  findP99: number
  rps: number
  p99: number
}

type StoreModule = {
  openSQLiteStore: (path: string) => {
    find(key: string): Promise<Uint8Array | undefined>
    close(): void
  }
}

function tokens(count: number): string[] {
  const out: string[] = new Array(count)
  const chunk = 10_000
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start)
    const bytes = randomBytes(32 * n)
    for (let i = 0; i < n; i++)
      out[start + i] = bytes.subarray(i * 32, i * 32 + 32).toString('base64url')
  }
  return out
}

// Rows go straight in with better-sqlite3 in one transaction, in sessionkit's own format, after
// the store has created its schema on the WAL file.
function fill(path: string, keys: string[]): number {
  const t0 = performance.now()
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  const deadline = new Date(Date.now() + 24 * 3600_000)
  const data = jsonCodec.encode(deadline, new Map([['message', MESSAGE]]))
  const { jd } = db
    .prepare(`SELECT julianday(?) AS jd`)
    .get(deadline.toISOString().slice(0, 23)) as { jd: number }
  const insert = db.prepare('INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)')
  db.transaction(() => {
    for (const key of keys) insert.run(key, data, jd)
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  return performance.now() - t0
}

async function findLatency(mod: StoreModule, path: string, keys: string[], samples: number) {
  const store = mod.openSQLiteStore(path)
  const times: number[] = []
  try {
    for (let i = 0; i < samples; i++) {
      const key = keys[Math.floor(Math.random() * keys.length)] as string
      const t0 = process.hrtime.bigint()
      const found = await store.find(key)
      times.push(Number(process.hrtime.bigint() - t0) / 1000)
      if (found === undefined) throw new Error(`find missed a row it should hold (${key})`)
    }
  } finally {
    store.close()
  }
  // The first calls prepare the statement and warm the cache; judge the steady state.
  const steady = times.slice(Math.floor(samples / 10))
  return { p50: percentile(steady, 50), p99: percentile(steady, 99) }
}

function memoryProbe(count: number): { sessionkit: number; expressSession: number } {
  const file = join(import.meta.dirname, 'memory-probe.ts')
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
    env: { ...process.env, BENCH_SESSIONS: String(count) },
    encoding: 'utf8',
  })
  return JSON.parse(out.trim().split('\n').pop() as string)
}

/**
 * How cost grows with the table: for each size, bulk-insert that many sessions, time the store's
 * `find` in process, and load `/get` on sessionkit + SQLite (node:http) rotating among 1,000 of
 * them; then the heap MemoryStore holds per 100k sessions.
 */
export async function runScale(
  load: LoadGenerator,
  plan: LoadPlan,
  dir: string,
  quick: boolean,
  log: (line: string) => void,
): Promise<ScaleResult> {
  const sizes = quick ? [1_000, 10_000] : [1_000, 100_000, 1_000_000]
  const contender = CONTENDERS.find((c) => c.id === 'sk-sqlite-node')
  let mod: StoreModule
  try {
    mod = (await import(
      new URL('../../src/stores/sqlite/index.ts', import.meta.url).href
    )) as StoreModule
  } catch (err) {
    return { markdown: `Scale: not run, SQLiteStore did not load: ${(err as Error).message}` }
  }
  if (contender === undefined) throw new Error('no sk-sqlite-node contender')
  const points: SizePoint[] = []
  for (const rows of sizes) {
    const path = join(dir, `scale-${rows}.db`)
    mod.openSQLiteStore(path).close()
    const keys = tokens(rows)
    const insertMs = fill(path, keys)
    const find = await findLatency(mod, path, keys, quick ? 2_000 : 20_000)
    const step = Math.max(1, Math.floor(rows / plan.sessions))
    const cookies: string[] = []
    for (let i = 0; i < rows && cookies.length < plan.sessions; i += step)
      cookies.push(`session=${keys[i]}`)
    const server = await ServerProcess.start(contender, { db: path, core: plan.serverCore })
    const job = {
      url: `http://127.0.0.1:${server.port}`,
      path: '/get',
      connections: plan.connections,
      cookies,
    }
    const runs = []
    try {
      if (plan.warmupSeconds > 0) await load.run({ ...job, seconds: plan.warmupSeconds })
      for (let r = 0; r < plan.repeats; r++)
        runs.push(await load.run({ ...job, seconds: plan.seconds }))
    } finally {
      await server.stop()
    }
    const bad = runs.reduce((n, r) => n + r.non2xx + r.errors, 0)
    if (bad > 0) log(`    scale ${rows}: ${bad} failed requests`)
    const point: SizePoint = {
      rows,
      insertMs,
      bytes: statSync(path).size,
      findP50: find.p50,
      findP99: find.p99,
      rps: median(runs.map((r) => r.rps)),
      p99: median(runs.map((r) => r.p99)),
    }
    points.push(point)
    log(
      `  scale ${rows.toLocaleString('en')} rows: /get ${formatRps(point.rps)} req/s, find p50 ${point.findP50.toFixed(1)} µs`,
    )
  }
  const memCount = quick ? 10_000 : 100_000
  const mem = memoryProbe(memCount)
  const per100k = (bytes: number) => formatBytes((bytes * 100_000) / memCount)
  log(
    `  MemoryStore heap per 100k sessions: sessionkit ${per100k(mem.sessionkit)}, express-session ${per100k(mem.expressSession)}`,
  )
  const lines = [
    '| sessions in table | file | bulk insert | store.find p50 | store.find p99 | /get req/s | /get p99 |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...points.map(
      (p) =>
        `| ${p.rows.toLocaleString('en')} | ${formatBytes(p.bytes)} | ${(p.insertMs / 1000).toFixed(1)} s | ${p.findP50.toFixed(1)} µs | ${p.findP99.toFixed(1)} µs | ${formatRps(p.rps)} | ${p.p99.toFixed(1)} ms |`,
    ),
    '',
    `Heap held by a MemoryStore per 100k sessions (measured with ${memCount.toLocaleString('en')}, after GC, ` +
      `one 21-character string value each): sessionkit MemoryStore ${per100k(mem.sessionkit)}; ` +
      `express-session MemoryStore ${per100k(mem.expressSession)}.`,
  ]
  return { markdown: lines.join('\n') }
}
