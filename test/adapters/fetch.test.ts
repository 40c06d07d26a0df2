import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/fetch.ts'
import type { Session } from '../../src/index.ts'
import { MemoryStore, SessionError, SessionManager } from '../../src/index.ts'
import { describeAdapter, toResponse } from '../helpers/adapter-suite.ts'
import { FETCH_SERVER, serveFetch } from '../helpers/serve-fetch.ts'

// @hono/node-server swaps in a lighter global Response whose redirect() headers are mutable;
// the immutable-headers tests need the platform's own.
const NativeResponse = globalThis.Response

// Served over HTTP by the runtime's own server (Bun.serve, Deno.serve, or @hono/node-server on
// Node), which answers a rejected fetch handler with a bare 500: the runtime, not the adapter,
// builds that response, so it has no Vary.
describeAdapter(
  `Fetch on ${FETCH_SERVER}`,
  async ({ managers, routes, tls }) => {
    let handler = async (request: Request): Promise<Response> => {
      const route = routes[new URL(request.url).pathname]
      if (route === undefined) return new Response(null, { status: 404 })
      return toResponse(await route({ session: (m) => m.from(request) }))
    }
    for (const manager of [...managers].reverse()) {
      const inner = handler
      handler = loadAndSave(manager, (request) => inner(request))
    }
    return serveFetch(handler, tls)
  },
  { errorVary: false },
)

describe('Fetch adapter', () => {
  const sessions = new SessionManager<{ userId: number }>({
    store: new MemoryStore({ cleanupInterval: 0 }),
  })

  it("passes the manager's typed session as the handler's second argument", async () => {
    const handler = loadAndSave(sessions, (request, session) => {
      expectTypeOf(session).toEqualTypeOf<Session<{ userId: number }>>()
      session.put('userId', 7)
      return new Response(String(sessions.from(request) === session))
    })
    const res = await handler(new Request('http://localhost/'))
    expect(await res.text()).toBe('true')
    expect(res.headers.getSetCookie()[0]).toMatch(/^session=[\w-]{43}; Path=\/; Expires=/)
  })

  it("with cookie.secure: 'auto', sends Secure for an https:// URL and a trusted X-Forwarded-Proto", async () => {
    const cookieFor = async (trustProxy: boolean, request: Request): Promise<string> => {
      const auto = new SessionManager({
        store: new MemoryStore({ cleanupInterval: 0 }),
        cookie: { secure: 'auto' },
        trustProxy,
      })
      const handler = loadAndSave(auto, (_request, session) => {
        session.put('x', 1)
        return new Response('ok')
      })
      return (await handler(request)).headers.getSetCookie()[0] ?? ''
    }
    const forwarded = { headers: { 'X-Forwarded-Proto': 'https' } }
    expect(await cookieFor(false, new Request('https://example.com/'))).toContain('; Secure;')
    expect(await cookieFor(false, new Request('http://localhost/'))).not.toContain('Secure')
    expect(await cookieFor(false, new Request('http://localhost/', forwarded))).not.toContain(
      'Secure',
    )
    expect(await cookieFor(true, new Request('http://localhost/', forwarded))).toContain(
      '; Secure;',
    )
  })

  it('copies a Response whose headers are immutable (Response.redirect)', async () => {
    const original = NativeResponse.redirect('http://localhost/next', 303)
    // The spec makes them immutable (Node, Deno); Bun lets them be set, and then no copy is needed.
    const immutable = (globalThis as { Bun?: unknown }).Bun === undefined
    if (immutable) expect(() => original.headers.set('x', 'y')).toThrow(TypeError)
    const handler = loadAndSave(sessions, (_request, session) => {
      session.put('userId', 1)
      return original
    })
    const res = await handler(new Request('http://localhost/sign-in'))
    if (immutable) expect(res).not.toBe(original)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('http://localhost/next')
    expect(res.headers.getSetCookie()).toHaveLength(1)
    expect(res.headers.get('vary')).toBe('Cookie')
  })

  it('adds its headers in place when the Response is mutable', async () => {
    const original = new Response('x', { headers: { Vary: 'Origin' } })
    const res = await loadAndSave(sessions, () => original)(new Request('http://localhost/'))
    expect(res).toBe(original)
    expect(res.headers.get('vary')).toBe('Origin, Cookie')
  })

  it('rejects with the SessionError when the store fails, so the runtime answers 500', async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    store.find = async () => {
      throw new Error('disk on fire')
    }
    const failing = new SessionManager({ store })
    const handler = loadAndSave(failing, () => new Response('never'))
    const request = new Request('http://localhost/', {
      headers: { Cookie: `session=${'A'.repeat(43)}` },
    })
    const err = await handler(request).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SessionError)
    expect((err as SessionError).code).toBe('ERR_STORE')
  })
})
