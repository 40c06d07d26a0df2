// `npm run bench:remote`: what does a session find or commit cost on PostgresStore and RedisStore
// (node-redis and ioredis, on one server and on a Redis Cluster, with and without
// waitForReplicas) against SQLiteStore, measured in the same run? Two shapes: one call at a time
// (the latency one request sees) and 32 calls in flight (an app under load). Needs the servers of
// `eval "$(npm run -s services)"`; a store whose URL is unset is left out.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import pg from 'pg'
import { createClient, createCluster } from 'redis'
import type { Store } from '../src/index.ts'
import { PostgresStore } from '../src/stores/postgres/index.ts'
import { RedisStore } from '../src/stores/redis/index.ts'
import { openSQLiteStore } from '../src/stores/sqlite/index.ts'

const KEYS = 5_000
const SEQUENTIAL_OPS = 5_000
const CONCURRENT_OPS = 20_000
const IN_FLIGHT = 32
const ROUNDS = 5
const token = (): string => randomBytes(32).toString('base64url')
const data = randomBytes(200) // about a small JSON session
const expiry = new Date(Date.now() + 3_600_000)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number

type Op = 'find' | 'commit'
type Shape = 'sequential' | 'concurrent'

interface Contender {
  name: string
  store: Store
  close(): Promise<void> | void
}

async function contenders(dir: string): Promise<Contender[]> {
  const out: Contender[] = []
  const sqlite = openSQLiteStore(join(dir, 'bench.db'), { cleanupInterval: 0 })
  out.push({ name: 'SQLiteStore', store: sqlite, close: () => sqlite.close() })

  const pgUrl = process.env.SESSIONKIT_POSTGRES_URL
  if (pgUrl) {
    const pool = new pg.Pool({ connectionString: pgUrl, max: IN_FLIGHT })
    pool.on('error', () => {})
    const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'bench_sessions' })
    await store.ready()
    await pool.query('TRUNCATE TABLE bench_sessions')
    out.push({ name: 'PostgresStore', store, close: () => pool.end() })
  } else console.warn('SESSIONKIT_POSTGRES_URL unset: PostgresStore left out')

  const redisUrl = process.env.SESSIONKIT_REDIS_URL
  if (redisUrl) {
    const node = createClient({ url: redisUrl, database: 9 })
    node.on('error', () => {})
    await node.connect()
    await node.flushDb()
    out.push({
      name: 'RedisStore (node-redis)',
      store: new RedisStore(node),
      close: () => node.destroy(),
    })
    const io = new Redis(redisUrl, { db: 10 })
    io.on('error', () => {})
    await io.flushdb()
    out.push({
      name: 'RedisStore (ioredis)',
      store: new RedisStore(io),
      close: () => io.disconnect(),
    })
  } else console.warn('SESSIONKIT_REDIS_URL unset: RedisStore left out')

  const clusterUrls = process.env.SESSIONKIT_REDIS_CLUSTER_URL
  if (clusterUrls) {
    const rootNodes = clusterUrls.split(',').map((url) => ({ url }))
    const node = createCluster({ rootNodes })
    node.on('error', () => {})
    await node.connect()
    const prefix = 'bench-cluster:'
    out.push({
      name: 'RedisStore on Cluster (node-redis)',
      store: new RedisStore(node, { prefix }),
      close: () => node.destroy(),
    })
    const io = new Cluster(
      rootNodes.map(({ url }) => ({
        host: new URL(url).hostname,
        port: Number(new URL(url).port),
      })),
    )
    io.on('error', () => {})
    await new Promise((resolve) => io.once('ready', resolve))
    out.push({
      name: 'RedisStore on Cluster (ioredis)',
      store: new RedisStore(io, { prefix }),
      close: () => {},
    })
    out.push({
      name: 'RedisStore on Cluster (ioredis, waitForReplicas: 1)',
      store: new RedisStore(io, { prefix, waitForReplicas: 1 }),
      close: () => io.disconnect(),
    })
  } else console.warn('SESSIONKIT_REDIS_CLUSTER_URL unset: RedisStore on Cluster left out')
  return out
}

async function run(store: Store, keys: string[], op: Op, shape: Shape): Promise<number> {
  const count = shape === 'sequential' ? SEQUENTIAL_OPS : CONCURRENT_OPS
  const call =
    op === 'find'
      ? (i: number) => store.find(keys[i % KEYS] as string)
      : (i: number) => store.commit(keys[i % KEYS] as string, data, expiry, 'update')
  const started = performance.now()
  if (shape === 'sequential') {
    for (let i = 0; i < count; i++) await call(i)
  } else {
    let next = 0
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < count) await call(next++)
      }),
    )
  }
  return count / ((performance.now() - started) / 1000)
}

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-remote-bench-'))
const all = await contenders(dir)
try {
  const keys = Array.from({ length: KEYS }, token)
  for (const c of all) {
    for (let i = 0; i < KEYS; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((k) => c.store.commit(k, data, expiry)))
    }
  }
  const rows: Record<string, Record<string, string>> = {}
  const baseline: Record<string, number> = {}
  for (const op of ['find', 'commit'] as const) {
    for (const shape of ['sequential', 'concurrent'] as const) {
      const column = `${op} ${shape === 'sequential' ? '1 at a time' : `${IN_FLIGHT} in flight`}`
      for (const c of all) {
        await run(c.store, keys, op, shape) // warm-up: JIT, prepared statements, pool sockets
        const rates: number[] = []
        for (let r = 0; r < ROUNDS; r++) rates.push(await run(c.store, keys, op, shape))
        const rate = median(rates)
        if (c.name === 'SQLiteStore') baseline[column] = rate
        const ratio = rate / (baseline[column] ?? rate)
        rows[c.name] ??= {}
        ;(rows[c.name] as Record<string, string>)[column] =
          `${Math.round(rate).toLocaleString('en-US')}/s (${ratio.toFixed(2)}×)`
      }
    }
  }
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')
  console.log(`${cpus().length} CPUs, load average ${load}: servers and client share them`)
  console.log(
    `ops/s, median of ${ROUNDS} rounds after a warm-up; ${KEYS} sessions of ${data.length} bytes; commit = 'update' mode; (×) = ratio to SQLiteStore in this run`,
  )
  console.table(rows)
} finally {
  for (const c of all) await c.close()
  rmSync(dir, { recursive: true, force: true })
}
