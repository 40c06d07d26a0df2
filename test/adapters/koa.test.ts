import { Readable } from 'node:stream'
import Koa from 'koa'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/koa.ts'
import type { Session } from '../../src/index.ts'
import { MemoryStore, SessionManager } from '../../src/index.ts'
import { describeAdapter, listen } from '../helpers/adapter-suite.ts'

describeAdapter('Koa', async ({ managers, routes, tls, trustProxy }) => {
  const app = new Koa()
  app.proxy = trustProxy === true
  // Errors are asserted on the responses; Koa would log each to stderr.
  app.silent = true
  for (const manager of managers) app.use(loadAndSave(manager))
  app.use(async (ctx) => {
    const route = routes[ctx.path]
    if (route === undefined) return
    const answer = await route({ session: (m) => m.from(ctx) })
    ctx.status = answer?.status ?? 200
    ctx.set(answer?.headers ?? {})
    ctx.body = answer?.stream !== undefined ? Readable.from(answer.stream()) : (answer?.body ?? '')
  })
  return listen(app.callback(), tls)
})

describe("Koa adapter with cookie.secure: 'auto'", () => {
  it("follows Koa's app.proxy (ctx.secure), not the manager's trustProxy", async () => {
    const cookieWith = async (proxy: boolean, trustProxy: boolean): Promise<string> => {
      const sessions = new SessionManager({
        store: new MemoryStore({ cleanupInterval: 0 }),
        cookie: { secure: 'auto' },
        trustProxy,
      })
      const app = new Koa()
      app.proxy = proxy
      app.use(loadAndSave(sessions))
      app.use((ctx) => {
        sessions.from(ctx).put('x', 1)
        ctx.body = ''
      })
      const served = await listen(app.callback())
      const res = await served.request('/', { headers: { 'X-Forwarded-Proto': 'https' } })
      await served.close()
      return res.headers.getSetCookie()[0] ?? ''
    }
    expect(await cookieWith(true, false)).toContain('; Secure;')
    expect(await cookieWith(false, true)).not.toContain('Secure')
  })
})

describe('Koa adapter', () => {
  it("types ctx.session and manager.from(ctx) with the manager's data", async () => {
    const sessions = new SessionManager<{ visits: number }>({
      store: new MemoryStore({ cleanupInterval: 0 }),
    })
    const app = new Koa()
    app.use(loadAndSave(sessions))
    app.use((ctx) => {
      expectTypeOf(ctx.session).toEqualTypeOf<Session | undefined>()
      expectTypeOf(sessions.from(ctx).get('visits')).toEqualTypeOf<number | undefined>()
      ctx.body = String(ctx.session === sessions.from(ctx))
    })
    const served = await listen(app.callback())
    expect(await (await served.request('/')).text()).toBe('true')
    await served.close()
  })

  it("emits store errors on the app's 'error' event with Vary kept on the 500", async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    store.commit = async () => {
      throw new Error('disk on fire')
    }
    const sessions = new SessionManager({ store })
    const app = new Koa()
    const seen: unknown[] = []
    app.on('error', (err: { code?: string }) => seen.push(err.code))
    app.use(loadAndSave(sessions))
    app.use((ctx) => {
      sessions.from(ctx).put('x', 1)
      ctx.set('X-Handler', 'yes')
      ctx.body = 'ok'
    })
    const served = await listen(app.callback())
    const res = await served.request('/')
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('Internal Server Error')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('vary')).toBe('Cookie')
    expect(res.headers.get('x-handler')).toBeNull()
    expect(seen).toEqual(['ERR_STORE'])
    await served.close()
  })

  it('lets an upstream middleware catch a store error with try/await next()', async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    store.find = async () => {
      throw new Error('disk on fire')
    }
    const sessions = new SessionManager({ store })
    const app = new Koa()
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (err) {
        ctx.status = 503
        ctx.body = (err as { code?: string }).code ?? 'unknown'
      }
    })
    app.use(loadAndSave(sessions))
    app.use((ctx) => {
      ctx.body = 'never'
    })
    const served = await listen(app.callback())
    const res = await served.request('/', {
      headers: { Cookie: `session=${'A'.repeat(43)}` },
    })
    expect(res.status).toBe(503)
    expect(await res.text()).toBe('ERR_STORE')
    expect(res.headers.getSetCookie()).toEqual([])
    await served.close()
  })

  it('an upstream middleware changing the session after the commit gets ERR_SESSION_SENT', async () => {
    const sessions = new SessionManager({ store: new MemoryStore({ cleanupInterval: 0 }) })
    const app = new Koa()
    const seen: unknown[] = []
    app.use(async (ctx, next) => {
      await next()
      try {
        sessions.from(ctx).put('late', true)
      } catch (err) {
        seen.push((err as { code?: string }).code)
      }
    })
    app.use(loadAndSave(sessions))
    app.use((ctx) => {
      ctx.body = 'ok'
    })
    const served = await listen(app.callback())
    expect(await (await served.request('/')).text()).toBe('ok')
    expect(seen).toEqual(['ERR_SESSION_SENT'])
    await served.close()
  })
})
