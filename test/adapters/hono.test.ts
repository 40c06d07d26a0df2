import { Hono } from 'hono'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/hono.ts'
import type { Session } from '../../src/index.ts'
import { MemoryStore, SessionManager } from '../../src/index.ts'
import { describeAdapter, toResponse } from '../helpers/adapter-suite.ts'
import { FETCH_SERVER, serveFetch } from '../helpers/serve-fetch.ts'

// @hono/node-server swaps in a lighter global Response whose redirect() headers are mutable;
// the immutable-headers tests need the platform's own.
const NativeResponse = globalThis.Response

describeAdapter(`Hono on ${FETCH_SERVER}`, async ({ managers, routes, tls }) => {
  const app = new Hono()
  for (const manager of managers) app.use(loadAndSave(manager))
  for (const [path, route] of Object.entries(routes)) {
    app.get(path, async (c) => toResponse(await route({ session: (m) => m.from(c) })))
  }
  // Hono's default onError logs each store failure; the suite asserts on the responses.
  app.onError((_err, c) => c.text('Internal Server Error', 500))
  return serveFetch(app.fetch, tls)
})

describe('Hono adapter', () => {
  const sessions = new SessionManager<{ userId: number }>({
    store: new MemoryStore({ cleanupInterval: 0 }),
  })

  it("types c.get('session') and manager.from(c) with the manager's data", async () => {
    const app = new Hono()
    app.use(loadAndSave(sessions))
    app.get('/', (c) => {
      expectTypeOf(c.get('session')).toEqualTypeOf<Session>()
      expectTypeOf(sessions.from(c).get('userId')).toEqualTypeOf<number | undefined>()
      sessions.from(c).put('userId', 1)
      return c.text(
        String(
          c.get('session') === sessions.from(c) && sessions.from(c.req.raw) === c.get('session'),
        ),
      )
    })
    const res = await app.request('/')
    expect(await res.text()).toBe('true')
    expect(res.headers.getSetCookie()).toHaveLength(1)
  })

  it("keeps the handler's own Set-Cookie and adds the session cookie to c.redirect()", async () => {
    const app = new Hono()
    app.use(loadAndSave(sessions))
    app.get('/sign-in', (c) => {
      sessions.from(c).put('userId', 2)
      c.header('Set-Cookie', 'theme=dark; Path=/', { append: true })
      c.header('Vary', 'Accept-Language')
      return c.redirect('/home', 303)
    })
    const res = await app.request('/sign-in')
    expect(res.status).toBe(303)
    const cookies = res.headers.getSetCookie()
    expect(cookies[0]).toBe('theme=dark; Path=/')
    expect(cookies[1]).toMatch(/^session=[\w-]{43}; /)
    expect(res.headers.get('vary')).toBe('Accept-Language, Cookie')
  })

  it('copies an immutable Response returned by the handler', async () => {
    const app = new Hono()
    app.use(loadAndSave(sessions))
    app.get('/', (c) => {
      sessions.from(c).put('userId', 3)
      return NativeResponse.redirect('http://localhost/next', 302)
    })
    const res = await app.request('/')
    expect(res.status).toBe(302)
    expect(res.headers.getSetCookie()).toHaveLength(1)
  })

  it('sends store errors to app.onError with Vary kept and no Set-Cookie', async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    store.commit = async () => {
      throw new Error('disk on fire')
    }
    const failing = new SessionManager({ store })
    const app = new Hono()
    const seen: unknown[] = []
    app.onError((err, c) => {
      seen.push((err as { code?: string }).code)
      return c.text('try later', 503)
    })
    app.use(loadAndSave(failing))
    app.get('/', (c) => {
      failing.from(c).put('x', 1)
      return c.text('ok')
    })
    const res = await app.request('/')
    expect(res.status).toBe(503)
    expect(await res.text()).toBe('try later')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('vary')).toBe('Cookie')
    expect(seen).toEqual(['ERR_STORE'])
  })
})

describe('Hono adapter with a handler that returns nothing', () => {
  it("leaves Hono's own error in place instead of sending an empty 200", async () => {
    const sessions = new SessionManager({ store: new MemoryStore({ cleanupInterval: 0 }) })
    const app = new Hono()
    app.onError((err, c) => c.text(err.message, 500))
    app.use(loadAndSave(sessions))
    // @ts-expect-error: the bug under test, a handler without a Response
    app.get('/', () => undefined)
    const res = await app.request('/')
    expect(res.status).toBe(500)
  })
})
