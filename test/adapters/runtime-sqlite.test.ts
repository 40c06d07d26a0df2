import { Hono } from 'hono'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadAndSave as fetchLoadAndSave } from '../../src/adapters/fetch.ts'
import { loadAndSave as honoLoadAndSave } from '../../src/adapters/hono.ts'
import { SessionManager } from '../../src/index.ts'
import {
  defaultSQLiteDriver,
  openSQLiteStore,
  type SQLiteStore,
} from '../../src/stores/sqlite/index.ts'
import type { TestApp } from '../helpers/adapter-suite.ts'
import { FETCH_SERVER, type FetchHandler, serveFetch } from '../helpers/serve-fetch.ts'
import { connect, RUNTIME } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

type Data = { message: string }

// The seed app's routes, plus renew and destroy, written once against the session.
function route(
  path: string,
  session: ReturnType<SessionManager<Data>['from']>,
): Response | Promise<Response> {
  if (path === '/put') {
    session.put('message', 'Hello from a session!')
    return new Response('')
  }
  if (path === '/get') return new Response(session.getString('message'))
  if (path === '/renew') return session.renewToken().then(() => new Response('renewed'))
  if (path === '/destroy') return session.destroy().then(() => new Response('destroyed'))
  return new Response('Not Found', { status: 404 })
}

const apps: Record<string, (sessions: SessionManager<Data>) => FetchHandler> = {
  fetch: (sessions) =>
    fetchLoadAndSave(sessions, (request, session) => route(new URL(request.url).pathname, session)),
  hono: (sessions) => {
    const app = new Hono()
    app.use(honoLoadAndSave(sessions))
    app.get('*', (c) => route(c.req.path, sessions.from(c)))
    return app.fetch
  },
}

const pair = (res: Response): string => res.headers.getSetCookie()[0]?.split(';')[0] ?? ''

for (const [adapter, makeHandler] of Object.entries(apps)) {
  describe(`${adapter} adapter on ${FETCH_SERVER} (${RUNTIME}) with openSQLiteStore on ${defaultSQLiteDriver()}`, () => {
    let tmp: ReturnType<typeof tempDir>
    let store: SQLiteStore
    let app: TestApp
    const rows = (): number => {
      const db = connect(defaultSQLiteDriver(), tmp.file, { readonly: true })
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n
      } finally {
        db.close()
      }
    }

    beforeEach(async () => {
      tmp = tempDir()
      store = openSQLiteStore(tmp.file, { cleanupInterval: 0 })
      app = await serveFetch(makeHandler(new SessionManager<Data>({ store })))
    })
    afterEach(async () => {
      await app.close()
      store.close()
      tmp.remove()
    })

    it('serves the seed: /put sets the cookie and writes the row, /get reads it back', async () => {
      const put = await app.request('/put')
      expect(put.status).toBe(200)
      expect(put.headers.getSetCookie()[0]).toMatch(
        /^session=[\w-]{43}; Path=\/; Expires=[^;]+; Max-Age=86400; HttpOnly; SameSite=Lax$/,
      )
      expect(rows()).toBe(1)
      const get = await app.request('/get', { headers: { Cookie: pair(put) } })
      expect(await get.text()).toBe('Hello from a session!')
      expect(get.headers.getSetCookie()).toEqual([])
      expect(await (await app.request('/get')).text()).toBe('')
    })

    it('renews the token keeping the data, and the old cookie then reads nothing', async () => {
      const cookie = pair(await app.request('/put'))
      const renewed = await app.request('/renew', { headers: { Cookie: cookie } })
      const next = pair(renewed)
      expect(next).toMatch(/^session=[\w-]{43}$/)
      expect(next).not.toBe(cookie)
      expect(await (await app.request('/get', { headers: { Cookie: next } })).text()).toBe(
        'Hello from a session!',
      )
      const old = await app.request('/get', { headers: { Cookie: cookie } })
      expect(await old.text()).toBe('')
      expect(old.headers.getSetCookie()).toEqual([])
      expect(rows()).toBe(1)
    })

    it('destroys the session: the row leaves the file and the cookie is deleted', async () => {
      const cookie = pair(await app.request('/put'))
      const destroyed = await app.request('/destroy', { headers: { Cookie: cookie } })
      expect(destroyed.headers.getSetCookie()[0]).toMatch(
        /^session=; Path=\/; Expires=Thu, 01 Jan 1970/,
      )
      expect(rows()).toBe(0)
    })

    it('keeps all of 100 overlapping sign-ins', async () => {
      const cookies = await Promise.all(
        Array.from({ length: 100 }, async () => pair(await app.request('/put'))),
      )
      expect(new Set(cookies).size).toBe(100)
      expect(rows()).toBe(100)
      const reads = await Promise.all(
        cookies.map(async (c) => (await app.request('/get', { headers: { Cookie: c } })).text()),
      )
      expect(reads.every((r) => r === 'Hello from a session!')).toBe(true)
    })
  })
}
