import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/node.ts'
import { SessionManager, type Store, StoreError } from '../../src/index.ts'
import { PostgresStore } from '../../src/stores/postgres/index.ts'
import { RedisStore } from '../../src/stores/redis/index.ts'
import { freePort } from '../helpers/http.ts'
import { named, serviceUrl } from '../helpers/services.ts'

/**
 * A store server stopped mid-load: a SessionManager behind the node adapter serves eight clients
 * that each keep one cookie, the server goes away for OUTAGE_MS and comes back. Every request must
 * finish within the store timeout, a failed one must be a 500 without Set-Cookie, nothing may
 * escape as an unhandled error, and the same app (no restart) must serve again afterwards.
 */
const TIMEOUT_MS = 1_000
const OUTAGE_MS = 2_500
const CLIENTS = 8
// One store call times out per request (a failed find ends it), plus HTTP and scheduling slack.
const LATENCY_BOUND_MS = TIMEOUT_MS + 750

interface Outage {
  cut(): Promise<void>
  restore(): Promise<void>
}

interface Sample {
  start: number
  end: number
  status: number
  /** The `name=value` part of the response's Set-Cookie, if it had one. */
  cookie: string | undefined
}

interface Figures {
  requests: number
  failed: number
  maxOutageLatency: number
  recovery: number
}

const figures: Record<string, Figures> = {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function get(port: number, agent: http.Agent, cookie: string | undefined): Promise<Sample> {
  const start = performance.now()
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: '/visit', agent, headers: cookie ? { cookie } : {} },
      (res) => {
        res.resume()
        res.on('end', () =>
          resolve({
            start,
            end: performance.now(),
            status: res.statusCode ?? 0,
            cookie: res.headers['set-cookie']?.[0]?.split(';')[0],
          }),
        )
      },
    )
    // A request the app never answers is a hang: record it as status 0, never wait forever.
    req.setTimeout(LATENCY_BOUND_MS * 3, () => req.destroy())
    req.on('error', () => resolve({ start, end: performance.now(), status: 0, cookie: undefined }))
  })
}

async function runOutage(name: string, store: Store, outage: Outage): Promise<void> {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown) => unhandled.push(err)
  process.on('uncaughtException', onUnhandled)
  process.on('unhandledRejection', onUnhandled)
  const errors: Error[] = []
  const sessions = new SessionManager<{ visits: number }>({
    store,
    onError: (err, _req, res) => {
      errors.push(err)
      res.statusCode = 500
      res.end('Internal Server Error')
    },
  })
  const server = http.createServer(
    loadAndSave(sessions, (req, res) => {
      const session = sessions.from(req)
      session.put('visits', (session.get('visits') ?? 0) + 1)
      res.end('ok')
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS })

  const samples: Sample[] = []
  let stop = false
  let restoredAt = Number.POSITIVE_INFINITY
  const recoveredClients = new Set<number>()
  const clients = Array.from({ length: CLIENTS }, async (_, id) => {
    let cookie: string | undefined
    while (!stop) {
      const sample = await get(port, agent, cookie)
      samples.push(sample)
      if (sample.status === 200) {
        if (sample.start >= restoredAt) recoveredClients.add(id)
        if (sample.cookie !== undefined) cookie = sample.cookie
      }
    }
  })

  try {
    await waitFor(() => samples.filter((s) => s.status === 200).length >= 50, 10_000)
    await outage.cut()
    const cutAt = performance.now()
    await sleep(OUTAGE_MS)
    await outage.restore()
    restoredAt = performance.now()
    await waitFor(() => recoveredClients.size === CLIENTS, 15_000)
    stop = true
    await Promise.all(clients)

    const duringOutage = samples.filter((s) => s.end >= cutAt && s.start < restoredAt)
    const failed = samples.filter((s) => s.status !== 200)
    const firstOk = Math.min(
      ...samples.filter((s) => s.status === 200 && s.start >= restoredAt).map((s) => s.end),
    )
    const result: Figures = {
      requests: samples.length,
      failed: failed.length,
      maxOutageLatency: Math.round(Math.max(...duringOutage.map((s) => s.end - s.start))),
      recovery: Math.round(firstOk - restoredAt),
    }
    figures[name] = result
    console.log(
      `${name}: ${result.requests} requests, ${result.failed} failed during a ${OUTAGE_MS} ms outage; max latency during the outage ${result.maxOutageLatency} ms (timeout ${TIMEOUT_MS} ms); first success ${result.recovery} ms after the server came back`,
    )

    expect(
      samples.every((s) => s.status !== 0),
      'every request got an answer',
    ).toBe(true)
    expect(Math.max(...samples.map((s) => s.end - s.start))).toBeLessThan(LATENCY_BOUND_MS)
    expect(failed.length, 'the outage made requests fail').toBeGreaterThan(0)
    for (const s of failed) {
      expect(s.status).toBe(500)
      expect(s.cookie).toBeUndefined()
    }
    expect(errors.length).toBe(failed.length)
    for (const err of errors) expect(err).toBeInstanceOf(StoreError)
    expect(unhandled).toEqual([])
  } finally {
    stop = true
    await Promise.allSettled(clients)
    agent.destroy()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    process.off('uncaughtException', onUnhandled)
    process.off('unhandledRejection', onUnhandled)
  }
}

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await sleep(20)
  }
}

/** A redis-server child on a free port, killed with SIGKILL and started again on the same port. */
class RedisChild implements Outage {
  readonly port: number
  #child: ChildProcess | undefined

  constructor(port: number) {
    this.port = port
  }

  async start(): Promise<void> {
    this.#child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    await waitForPort(this.port)
  }

  async stop(): Promise<void> {
    const child = this.#child
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
  }

  cut(): Promise<void> {
    return this.stop()
  }

  restore(): Promise<void> {
    return this.start()
  }
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(25)
  }
  throw new Error(`nothing listening on ${port}`)
}

/**
 * An in-process TCP proxy in front of the real PostgreSQL server. `cut` closes the listener and
 * resets every open connection, which is what clients see when the server dies; `'hang'` instead
 * keeps accepting and silently drops all traffic, like a network partition. A proxy rather than a
 * second pg_ctl-managed server: it needs no initdb (seconds) nor root-to-postgres user switching,
 * works against any SESSIONKIT_POSTGRES_URL, and can also simulate the silent server, which a
 * stopped postmaster cannot.
 */
class PostgresProxy implements Outage {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<net.Socket>()
  #server: net.Server | undefined
  #mode: 'up' | 'refuse' | 'hang' = 'up'
  readonly #cutMode: 'refuse' | 'hang'
  port = 0

  constructor(target: { host: string; port: number }, cutMode: 'refuse' | 'hang') {
    this.#target = target
    this.#cutMode = cutMode
  }

  async start(): Promise<void> {
    this.#mode = 'up'
    this.#server = net.createServer((client) => this.#accept(client))
    await new Promise<void>((resolve) => this.#server?.listen(this.port, '127.0.0.1', resolve))
    this.port = (this.#server.address() as net.AddressInfo).port
  }

  #accept(client: net.Socket): void {
    this.#sockets.add(client)
    client.on('close', () => this.#sockets.delete(client))
    client.on('error', () => {})
    if (this.#mode === 'hang') return // accepted, never answered
    const upstream = net.connect(this.#target.port, this.#target.host)
    this.#sockets.add(upstream)
    upstream.on('close', () => this.#sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.on('data', (chunk) => {
      if (this.#mode !== 'hang') upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      if (this.#mode !== 'hang') client.write(chunk)
    })
  }

  async cut(): Promise<void> {
    this.#mode = this.#cutMode
    if (this.#cutMode === 'refuse') {
      await this.close()
    }
  }

  async restore(): Promise<void> {
    // Connections opened or frozen during the outage are reset, as after a real restart.
    for (const socket of this.#sockets) socket.destroy()
    if (this.#cutMode === 'hang') this.#mode = 'up'
    else await this.start()
  }

  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    if (server !== undefined) await new Promise((resolve) => server.close(resolve))
  }
}

// Each suite prints its own table from its own afterAll, so vitest shows it under that suite.
function printFigures(heading: string, prefix: string): void {
  const mine = Object.fromEntries(
    Object.entries(figures).filter(([name]) => name.startsWith(prefix)),
  )
  if (Object.keys(mine).length === 0) return
  console.log(heading)
  console.table(mine)
}

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0

describe('store faults: Redis server killed mid-load and restarted', () => {
  afterAll(() => {
    printFigures('Redis outage figures (node-redis)', 'node-redis')
    printFigures('Redis outage figures (ioredis)', 'ioredis')
  })
  if (!hasRedisServer) {
    const message = 'redis-server is not installed (apt-get install redis-server)'
    if (process.env.CI === 'true') it('has redis-server', () => expect.fail(message))
    else it.skip(`Redis fault tests: ${message}`, () => {})
    return
  }

  it('node-redis v5: requests fail fast with 500 and no cookie, then recover without a restart', async () => {
    const redis = new RedisChild(await freePort())
    await redis.start()
    const client = createClient({ url: `redis://127.0.0.1:${redis.port}` })
    client.on('error', () => {})
    await client.connect()
    try {
      await runOutage('node-redis', new RedisStore(client, { timeout: TIMEOUT_MS }), redis)
    } finally {
      client.destroy()
      await redis.stop()
    }
  }, 40_000)

  it('ioredis: requests fail fast with 500 and no cookie, then recover without a restart', async () => {
    const redis = new RedisChild(await freePort())
    await redis.start()
    const client = new Redis({ host: '127.0.0.1', port: redis.port })
    client.on('error', () => {})
    try {
      await runOutage('ioredis', new RedisStore(client, { timeout: TIMEOUT_MS }), redis)
    } finally {
      client.disconnect()
      await redis.stop()
    }
  }, 40_000)
})

const pgUrl = serviceUrl('postgres')
describe.skipIf(pgUrl === undefined)(
  named('store faults: PostgreSQL cut off mid-load behind a proxy and restored', 'postgres', pgUrl),
  () => {
    // Collected even when skipped: nothing here may need the server before a test runs.
    const url = pgUrl ?? 'postgres://127.0.0.1:5432/unset'
    const target = new URL(url)
    afterAll(() => printFigures('PostgreSQL outage figures', 'postgres'))

    for (const mode of ['refuse', 'hang'] as const) {
      it(`${mode === 'refuse' ? 'server gone (connections reset and refused)' : 'server silent (traffic dropped)'}: requests fail fast with 500 and no cookie, then recover`, async () => {
        const proxy = new PostgresProxy(
          { host: target.hostname, port: Number(target.port || 5432) },
          mode,
        )
        await proxy.start()
        const proxied = new URL(url)
        proxied.port = String(proxy.port)
        // No connectionTimeoutMillis on purpose: the store's own timeout must bound every request.
        const pool = new pg.Pool({ connectionString: proxied.toString(), max: 10 })
        pool.on('error', () => {})
        const store = new PostgresStore(pool, {
          timeout: TIMEOUT_MS,
          cleanupInterval: 0,
          tableName: 'fault_sessions',
        })
        await store.ready()
        try {
          await runOutage(`postgres (${mode})`, store, proxy)
        } finally {
          store.close()
          await proxy.close()
          await pool.end().catch(() => {})
        }
      }, 40_000)
    }
  },
)
