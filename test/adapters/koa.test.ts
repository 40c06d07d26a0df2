import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import Koa from 'koa'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/koa.ts'
import type { Session } from '../../src/index.ts'
import { MemoryStore, SessionManager } from '../../src/index.ts'
import { describeAdapter, listen } from '../adapter-suite.ts'

describeAdapter('Koa', async ({ managers, routes }) => {
  const app = new Koa()
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
  return listen(app.callback())
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
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('true')
    server.closeAllConnections()
    server.close()
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
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/`)
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('Internal Server Error')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('vary')).toBe('Cookie')
    expect(res.headers.get('x-handler')).toBeNull()
    expect(seen).toEqual(['ERR_STORE'])
    server.closeAllConnections()
    server.close()
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
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { Cookie: `session=${'A'.repeat(43)}` },
    })
    expect(res.status).toBe(503)
    expect(await res.text()).toBe('ERR_STORE')
    expect(res.headers.getSetCookie()).toEqual([])
    server.closeAllConnections()
    server.close()
  })
})
