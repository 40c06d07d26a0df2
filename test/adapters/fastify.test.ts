import { Readable } from 'node:stream'
import Fastify, { type FastifyTypeProvider } from 'fastify'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/fastify.ts'
import type { Session } from '../../src/index.ts'
import { MemoryStore, SessionManager } from '../../src/index.ts'
import { describeAdapter, requester } from '../helpers/adapter-suite.ts'

describeAdapter('Fastify', async ({ managers, routes, tls, trustProxy }) => {
  // https: null serves plain http.
  const app = Fastify({ https: tls ?? null, trustProxy })
  for (const manager of managers) await app.register(loadAndSave(manager))
  for (const [path, route] of Object.entries(routes)) {
    app.get(path, async (request, reply) => {
      const answer = await route({ session: (m) => m.from(request) })
      reply.status(answer?.status ?? 200)
      reply.headers(answer?.headers ?? {})
      if (answer?.stream !== undefined) return reply.send(Readable.from(answer.stream()))
      return reply.send(answer?.body ?? '')
    })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { request: requester(port, tls), close: () => app.close() }
})

interface JsonTypeProvider extends FastifyTypeProvider {
  validator: this['schema']
  serializer: this['schema']
}

describe("Fastify adapter with cookie.secure: 'auto'", () => {
  it("follows Fastify's trustProxy (request.protocol), not the manager's", async () => {
    const cookieWith = async (trustProxy: boolean, managerTrust: boolean): Promise<string> => {
      const sessions = new SessionManager({
        store: new MemoryStore({ cleanupInterval: 0 }),
        cookie: { secure: 'auto' },
        trustProxy: managerTrust,
      })
      const app = Fastify({ trustProxy })
      await app.register(loadAndSave(sessions))
      app.get('/', async (request) => {
        sessions.from(request).put('x', 1)
        return ''
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as { port: number }
      const res = await requester(port)('/', { headers: { 'X-Forwarded-Proto': 'https' } })
      await app.close()
      return res.headers.getSetCookie()[0] ?? ''
    }
    expect(await cookieWith(true, false)).toContain('; Secure;')
    expect(await cookieWith(false, true)).not.toContain('Secure')
  })
})

describe('Fastify adapter', () => {
  it('registers on instances with a type provider or an http2 server', async () => {
    const sessions = new SessionManager({ store: new MemoryStore({ cleanupInterval: 0 }) })
    const typed = Fastify().withTypeProvider<JsonTypeProvider>()
    await typed.register(loadAndSave(sessions))
    const h2 = Fastify({ http2: true })
    await h2.register(loadAndSave(sessions))
    expect(typed.hasRequestDecorator('session')).toBe(true)
    expect(h2.hasRequestDecorator('session')).toBe(true)
    await Promise.all([typed.close(), h2.close()])
  })

  it('decorates request.session across encapsulated child plugins', async () => {
    const sessions = new SessionManager<{ visits: number }>({
      store: new MemoryStore({ cleanupInterval: 0 }),
    })
    const app = Fastify()
    await app.register(loadAndSave(sessions))
    await app.register(async (child) => {
      child.get('/visit', async (request) => {
        expectTypeOf(sessions.from(request).get('visits')).toEqualTypeOf<number | undefined>()
        expectTypeOf(request.session).toEqualTypeOf<Session | null>()
        const session = sessions.from(request)
        session.put('visits', (session.get('visits') ?? 0) + 1)
        return { same: request.session === session, visits: session.get('visits') }
      })
    })
    const first = await app.inject({ method: 'GET', url: '/visit' })
    expect(first.json()).toEqual({ same: true, visits: 1 })
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? ''
    const second = await app.inject({ method: 'GET', url: '/visit', headers: { cookie } })
    expect(second.json()).toEqual({ same: true, visits: 2 })
    await app.close()
  })

  it("sends a store error through the instance's setErrorHandler", async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    store.commit = async () => {
      throw new Error('disk on fire')
    }
    const sessions = new SessionManager({ store })
    const app = Fastify()
    const seen: unknown[] = []
    app.setErrorHandler((err, _request, reply) => {
      seen.push((err as { code?: string }).code)
      return reply.status(503).send('try later')
    })
    await app.register(loadAndSave(sessions))
    app.get('/put', async (request) => {
      sessions.from(request).put('x', 1)
      return 'ok'
    })
    const res = await app.inject({ method: 'GET', url: '/put' })
    expect(res.statusCode).toBe(503)
    expect(res.body).toBe('try later')
    expect(res.headers['set-cookie']).toBeUndefined()
    expect(res.headers.vary).toBe('Cookie')
    expect(seen).toEqual(['ERR_STORE'])
    await app.close()
  })
})
