import type { IncomingMessage, ServerResponse } from 'node:http'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createClient } from 'redis'
import { createClient as createClientV4 } from 'redis4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/node.ts'
import { MemoryStore, type RefusedReason, SessionManager, type Store } from '../../src/index.ts'
import { PostgresStore } from '../../src/stores/postgres/index.ts'
import { RedisStore } from '../../src/stores/redis/index.ts'
import { openSQLiteStore } from '../../src/stores/sqlite/index.ts'
import { Client, serve, type TestServer, tokenOf } from '../helpers/http.ts'
import { named, serviceUrl } from '../helpers/services.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

type Data = Record<string, string>

interface Target {
  name: string
  /** Why the target cannot run here, or undefined when it can. */
  skip?: string
  open(): Promise<{ store: Store; close(): Promise<void> | void }>
}

const targets: Target[] = [
  { name: 'MemoryStore', open: async () => ({ store: new MemoryStore(), close: () => {} }) },
  {
    name: 'SQLiteStore',
    open: async () => {
      const tmp = tempDir()
      const store = openSQLiteStore(tmp.file, { cleanupInterval: 0 })
      return {
        store,
        close: () => {
          store.close()
          tmp.remove()
        },
      }
    },
  },
]
const pgUrl = serviceUrl('postgres')
targets.push({
  name: named('PostgresStore', 'postgres', pgUrl),
  skip: pgUrl === undefined ? 'postgres' : undefined,
  open: async () => {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 10 })
    pool.on('error', () => {})
    const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'http_races' })
    await store.ready()
    return { store, close: () => pool.end() }
  },
})
const redisUrl = serviceUrl('redis')
const redisSkip = redisUrl === undefined ? 'redis' : undefined
targets.push(
  {
    name: named('RedisStore (node-redis v5)', 'redis', redisUrl),
    skip: redisSkip,
    open: async () => {
      const client = createClient({ url: redisUrl, database: 9 })
      client.on('error', () => {})
      await client.connect()
      return { store: new RedisStore(client), close: () => client.destroy() }
    },
  },
  {
    name: named('RedisStore (node-redis v4)', 'redis', redisUrl),
    skip: redisSkip,
    open: async () => {
      const client = createClientV4({ url: redisUrl, database: 10 })
      client.on('error', () => {})
      await client.connect()
      return { store: new RedisStore(client), close: () => client.disconnect() }
    },
  },
  {
    name: named('RedisStore (ioredis)', 'redis', redisUrl),
    skip: redisSkip,
    open: async () => {
      const client = new Redis(redisUrl as string, { db: 11 })
      client.on('error', () => {})
      return { store: new RedisStore(client), close: () => client.disconnect() }
    },
  },
)

interface Deferred {
  promise: Promise<void>
  resolve(): void
}

// Promise.withResolvers arrived in Node 22; the suite still runs on 20.
function deferred(): Deferred {
  let resolve = (): void => {}
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/**
 * Requests that stop where the test says: `?hold=<id>` makes the handler report that it has
 * loaded its session, then wait until the test releases that id. No timer decides an order.
 */
class Gates {
  readonly #arrived = new Map<string, Deferred>()
  readonly #released = new Map<string, Deferred>()

  #entry(map: Map<string, Deferred>, id: string): Deferred {
    let entry = map.get(id)
    if (entry === undefined) {
      entry = deferred()
      map.set(id, entry)
    }
    return entry
  }

  async pass(id: string | null): Promise<void> {
    if (id === null) return
    this.#entry(this.#arrived, id).resolve()
    await this.#entry(this.#released, id).promise
  }

  arrived(id: string): Promise<void> {
    return this.#entry(this.#arrived, id).promise
  }

  release(id: string): void {
    this.#entry(this.#released, id).resolve()
  }
}

for (const target of targets) {
  describe.skipIf(target.skip !== undefined)(
    `over real HTTP on ${target.name}: no acknowledged write is lost to a race`,
    () => {
      let server: TestServer
      let close: () => Promise<void> | void
      let sessions: SessionManager<Data>
      const gates = new Gates()
      const refusals: RefusedReason[] = []

      beforeAll(async () => {
        const opened = await target.open()
        sessions = new SessionManager<Data>({ store: opened.store })
        sessions.on('refused', ({ reason }) => refusals.push(reason))
        const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
          const url = new URL(req.url ?? '/', 'http://x')
          const session = sessions.from(req)
          await gates.pass(url.searchParams.get('hold'))
          switch (url.pathname) {
            case '/put':
              session.put(url.searchParams.get('k') ?? 'k', url.searchParams.get('v') ?? 'v')
              break
            case '/login':
              await session.renewToken()
              session.put('user', url.searchParams.get('user') ?? 'ada')
              break
            case '/logout':
              await session.destroy()
              break
            case '/save': {
              // The pattern docs/api.md shows: commit early, and tell the user when it did not stick.
              session.put(url.searchParams.get('k') ?? 'k', 'saved')
              const { committed } = await sessions.commit(session)
              if (!committed) {
                res.statusCode = 409
                res.end(`not saved: ${session.refused}`)
                return
              }
              break
            }
          }
          res.setHeader('content-type', 'application/json')
          if (session.refused !== undefined) res.setHeader('x-refused', session.refused)
          res.end(
            JSON.stringify(Object.fromEntries(session.keys().map((k) => [k, session.get(k)]))),
          )
        }
        server = await serve(loadAndSave(sessions, handler))
        close = opened.close
      })
      afterAll(async () => {
        await server?.close()
        await close?.()
      })

      async function signedIn(): Promise<Client> {
        const client = new Client(server.url)
        await client.get('/put?k=start&v=1')
        expect(client.jar.get('session')).toHaveLength(43)
        return client
      }

      const keysOf = async (client: Client): Promise<Data> =>
        JSON.parse((await client.get('/get')).body) as Data

      it('keeps both keys of two overlapping requests that put different keys (20 pairs, held mid-request)', async () => {
        let lost = 0
        for (let i = 0; i < 20; i++) {
          const client = await signedIn()
          const a = client.get(`/put?k=A&hold=a${i}`)
          const b = client.get(`/put?k=B&hold=b${i}`)
          await Promise.all([gates.arrived(`a${i}`), gates.arrived(`b${i}`)])
          gates.release(`b${i}`)
          const second = await b
          gates.release(`a${i}`)
          const first = await a
          expect([first.status, second.status]).toEqual([200, 200])
          const after = await keysOf(client)
          if (after.A !== 'v' || after.B !== 'v') lost++
        }
        expect(lost).toBe(0)
      })

      it('keeps every key of 50 pairs of concurrent requests sent without any delay', async () => {
        const clients = await Promise.all(Array.from({ length: 50 }, () => signedIn()))
        await Promise.all(
          clients.flatMap((client) => [client.get('/put?k=A'), client.get('/put?k=B')]),
        )
        const after = await Promise.all(clients.map(keysOf))
        expect(after.filter((keys) => keys.A !== 'v' || keys.B !== 'v')).toEqual([])
      })

      it('gives a request that renews its token after a logout no cookie and none of the old session', async () => {
        const client = await signedIn()
        const old = client.jar.get('session') as string
        const slow = client.get('/login?user=mallory&hold=renew')
        await gates.arrived('renew')
        const logout = await client.get('/logout')
        expect(logout.setCookie[0]).toMatch(/^session=; .*Max-Age=0/)
        gates.release('renew')
        const late = await slow
        // Its renewToken found the session gone: the handler holds an empty, refused session (its
        // own put lands there and nowhere else), and the response sets no cookie.
        expect(late.setCookie).toEqual([])
        expect(late.headers.get('x-refused')).toBe('destroyed')
        expect(JSON.parse(late.body)).toEqual({ user: 'mallory' })
        expect(await sessions.store.find(old)).toBeUndefined()
        expect(client.jar.has('session')).toBe(false)
      })

      it('keeps a sign-in when a request still carrying the old cookie arrives after it', async () => {
        const client = await signedIn()
        const old = client.jar.get('session') as string
        const login = await client.get('/login?user=ada')
        const renewed = tokenOf(login.setCookie[0])
        expect(renewed).not.toBe(old)
        // The in-flight request was sent with the old cookie before the sign-in response arrived.
        const late = await client.get('/put?k=csrf', { headers: { cookie: `session=${old}` } })
        expect(late.status).toBe(200)
        expect(late.setCookie).toEqual([])
        expect(late.headers.get('x-refused')).toBe('renewed')
        expect(JSON.parse(late.body)).toEqual({ csrf: 'v' })
        expect(client.jar.get('session')).toBe(renewed)
        expect(await keysOf(client)).toEqual({ start: '1', user: 'ada' })
      })

      it('tells the application when a slow write was refused because the session was destroyed', async () => {
        const client = await signedIn()
        const before = refusals.length
        const slow = client.get('/save?k=profile&hold=save')
        await gates.arrived('save')
        await client.get('/logout')
        gates.release('save')
        const res = await slow
        expect(res.status).toBe(409)
        expect(res.body).toBe('not saved: destroyed')
        expect(res.setCookie).toEqual([])
        expect(refusals.slice(before)).toEqual(['destroyed'])
      })
    },
  )
}
