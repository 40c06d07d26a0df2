import { createRequire } from 'node:module'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { sign } from 'cookie-signature'
import session from 'express-session'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ExpressSessionStore,
  expressSessionBridge,
} from '../../src/bridges/express-session.ts'
import { SessionManager } from '../../src/index.ts'
import { connectSqlite3Missing } from '../helpers/connect-sqlite3.ts'
import { listen, newApp, type OldStore, oldApp, SECRETS } from '../helpers/express-session-apps.ts'
import { named, serviceUrl } from '../helpers/services.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const require = createRequire(import.meta.url)

interface OldTarget {
  title: string
  skip: boolean
  open(): Promise<{ store: OldStore; close(): Promise<void> }>
}

const tmp = tempDir('sessionkit-bridge-')
const pgUrl = serviceUrl('postgres')
const redisUrl = serviceUrl('redis')
const cs3Missing = connectSqlite3Missing()
const targets: OldTarget[] = [
  {
    title: 'better-sqlite3-session-store',
    skip: false,
    async open() {
      const SqliteStore = require('better-sqlite3-session-store')(session) as new (options: {
        client: Database.Database
        expired: { clear: boolean }
      }) => OldStore
      const db = new Database(join(tmp.dir, 'bs3-sessions.db'))
      return {
        store: new SqliteStore({ client: db, expired: { clear: false } }),
        close: async () => {
          db.close()
        },
      }
    },
  },
  {
    title:
      cs3Missing === undefined ? 'connect-sqlite3' : `connect-sqlite3 (skipped: ${cs3Missing})`,
    skip: cs3Missing !== undefined,
    async open() {
      const SQLiteStore = require('connect-sqlite3')(session) as new (options: {
        db: string
        dir: string
      }) => OldStore & { db: { close(cb: () => void): void } }
      const store = new SQLiteStore({ db: 'cs3-sessions.db', dir: tmp.dir })
      return { store, close: () => new Promise<void>((resolve) => store.db.close(() => resolve())) }
    },
  },
  {
    title: named('connect-pg-simple', 'postgres', pgUrl),
    skip: pgUrl === undefined,
    async open() {
      const pool = new pg.Pool({ connectionString: pgUrl, max: 3 })
      await pool.query('DROP TABLE IF EXISTS bridge_old_sessions')
      const PgStore = require('connect-pg-simple')(session) as new (options: {
        pool: pg.Pool
        tableName: string
        createTableIfMissing: boolean
        pruneSessionInterval: false
      }) => OldStore & { close(): Promise<void> }
      const store = new PgStore({
        pool,
        tableName: 'bridge_old_sessions',
        createTableIfMissing: true,
        pruneSessionInterval: false,
      })
      return {
        store,
        close: async () => {
          await pool.query('DROP TABLE IF EXISTS bridge_old_sessions')
          await pool.end()
        },
      }
    },
  },
  {
    title: named('connect-redis', 'redis', redisUrl),
    skip: redisUrl === undefined,
    async open() {
      const { RedisStore } = (await import('connect-redis')) as unknown as {
        RedisStore: new (options: { client: unknown; prefix: string }) => OldStore
      }
      const client = createClient({ url: redisUrl })
      await client.connect()
      return {
        store: new RedisStore({ client, prefix: 'bridge-old:' }),
        close: async () => {
          const keys = await client.keys('bridge-old:*')
          if (keys.length > 0) await client.del(keys)
          await client.close()
        },
      }
    },
  },
]

const pairOf = (setCookie: string[], name: string): string | undefined =>
  setCookie.find((c) => c.startsWith(`${name}=`))?.split(';')[0]

const oldGet = (store: OldStore, sid: string) =>
  new Promise<unknown>((resolve, reject) =>
    store.get(sid, (err, s) => (err ? reject(err) : resolve(s ?? undefined))),
  )

afterAll(() => tmp.remove())

for (const target of targets) {
  describe.skipIf(target.skip)(
    `expressSessionBridge from express-session + ${target.title}`,
    () => {
      let old: Awaited<ReturnType<OldTarget['open']>>
      beforeAll(async () => {
        old = await target.open()
        // Some stores make their table in the background: one write and read before the tests.
        await new Promise<void>((resolve, reject) =>
          old.store.set(
            'warm-up',
            { cookie: { originalMaxAge: 60_000 } } as session.SessionData,
            (err) => (err ? reject(err) : resolve()),
          ),
        )
        await oldGet(old.store, 'warm-up')
      })
      afterAll(async () => {
        await old.close()
      })

      // Signs in on the real express-session app and returns the browser's connect.sid pair.
      async function signInOld(): Promise<{ cookie: string; sid: string }> {
        const server = await listen(oldApp(old.store))
        try {
          const res = await fetch(`${server.url}/login`)
          expect(res.status).toBe(200)
          // express-session sends the headers first and ends the response once the store has
          // saved: the session is only there once the body is complete.
          await res.text()
          const cookie = pairOf(res.headers.getSetCookie(), 'connect.sid')
          if (cookie === undefined) throw new Error('express-session set no cookie')
          const signed = decodeURIComponent(cookie.slice('connect.sid='.length))
          const sid = signed.slice('s:'.length, signed.lastIndexOf('.'))
          return { cookie, sid }
        } finally {
          await server.close()
        }
      }

      it('keeps the user signed in: data moved, sessionkit cookie set, old cookie cleared, old session destroyed', async () => {
        const { cookie, sid } = await signInOld()
        expect(await oldGet(old.store, sid)).toBeDefined()
        const { app } = newApp(old.store)
        const server = await listen(app)
        try {
          const first = await fetch(`${server.url}/me`, { headers: { Cookie: cookie } })
          expect(await first.json()).toEqual({ userId: 42, cart: ['tea', 'milk'] })
          const set = first.headers.getSetCookie()
          const sk = pairOf(set, 'session')
          expect(sk).toMatch(/^session=[\w-]{43}$/)
          expect(set.find((c) => c.startsWith('connect.sid='))).toMatch(
            /^connect\.sid=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT$/,
          )
          expect(await oldGet(old.store, sid)).toBeUndefined()
          // From now on the sessionkit cookie alone carries the user.
          const next = await fetch(`${server.url}/me`, { headers: { Cookie: sk as string } })
          expect(await next.json()).toEqual({ userId: 42, cart: ['tea', 'milk'] })
          expect(next.headers.getSetCookie()).toEqual([])
        } finally {
          await server.close()
        }
      })

      it('ignores a forged or unsigned cookie without looking it up', async () => {
        const { sid } = await signInOld()
        let lookups = 0
        const { app } = newApp(old.store, () => lookups++)
        const server = await listen(app)
        try {
          for (const forged of [
            `connect.sid=${encodeURIComponent(`s:${sign(sid, 'not the secret')}`)}`,
            `connect.sid=${encodeURIComponent(sid)}`,
            `connect.sid=${encodeURIComponent(`s:${sid}`)}`,
          ]) {
            const res = await fetch(`${server.url}/me`, { headers: { Cookie: forged } })
            expect(await res.json()).toEqual({ userId: null, cart: null })
            expect(res.headers.getSetCookie()).toEqual([])
          }
          expect(lookups).toBe(0)
          // The genuine session is still there for its owner.
          expect(await oldGet(old.store, sid)).toBeDefined()
        } finally {
          await server.close()
        }
      })

      it('verifies with every secret of the list, as express-session does', async () => {
        const { sid } = await signInOld()
        const { app } = newApp(old.store)
        const server = await listen(app)
        try {
          const olderSecret = `connect.sid=${encodeURIComponent(`s:${sign(sid, SECRETS[1] as string)}`)}`
          const res = await fetch(`${server.url}/me`, { headers: { Cookie: olderSecret } })
          expect(await res.json()).toEqual({ userId: 42, cart: ['tea', 'milk'] })
        } finally {
          await server.close()
        }
      })

      it('moves a session once when the browser sends several requests at the switch', async () => {
        const { cookie } = await signInOld()
        const { app } = newApp(old.store)
        const server = await listen(app)
        try {
          const responses = await Promise.all(
            Array.from({ length: 6 }, () =>
              fetch(`${server.url}/me`, { headers: { Cookie: cookie } }),
            ),
          )
          const bodies = await Promise.all(responses.map((r) => r.json()))
          expect(bodies.every((b) => (b as { userId: number }).userId === 42)).toBe(true)
          const tokens = responses
            .map((r) => pairOf(r.headers.getSetCookie(), 'session'))
            .filter((c) => c !== undefined)
          // One move, one new session: the other requests waited and read it.
          expect(tokens).toHaveLength(1)
        } finally {
          await server.close()
        }
      })

      it('signs out on the first request after the switch: both sessions end, the old one cannot come back', async () => {
        const { cookie, sid } = await signInOld()
        const { app } = newApp(old.store)
        const server = await listen(app)
        try {
          const out = await fetch(`${server.url}/logout`, { headers: { Cookie: cookie } })
          const set = out.headers.getSetCookie()
          expect(set.find((c) => c.startsWith('session='))).toMatch(/Expires=Thu, 01 Jan 1970/)
          expect(set.find((c) => c.startsWith('connect.sid='))).toMatch(/Expires=Thu, 01 Jan 1970/)
          expect(await oldGet(old.store, sid)).toBeUndefined()
          const again = await fetch(`${server.url}/me`, { headers: { Cookie: cookie } })
          expect(await again.json()).toEqual({ userId: null, cart: null })
        } finally {
          await server.close()
        }
      })
    },
  )
}

describe('expressSessionBridge options', () => {
  it('refuses a store without get/destroy, an empty secret, and use with tokenHeader', () => {
    expect(() => expressSessionBridge({ store: {} as ExpressSessionStore, secret: 's' })).toThrow(
      /express-session Store/,
    )
    const store = new session.MemoryStore() as unknown as ExpressSessionStore
    expect(() => expressSessionBridge({ store, secret: [] })).toThrow(/secret/)
    expect(
      () =>
        new SessionManager({
          tokenHeader: 'Authorization',
          bridge: expressSessionBridge({ store, secret: 's' }),
        }),
    ).toThrow(/bridge.*tokenHeader/)
  })
})
