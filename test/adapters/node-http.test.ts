import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadAndSave } from '../../src/adapters/node.ts'
import type { SessionManagerOptions } from '../../src/index.ts'
import { generateToken, jsonCodec, MemoryStore, SessionManager } from '../../src/index.ts'
import { Client, serve, type TestServer, tokenOf } from '../helpers/http.ts'
import { failingStore, RecordingStore } from '../helpers/stores.ts'

type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  s: ReturnType<SessionManager['from']>,
) => unknown

let servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
  vi.restoreAllMocks()
})

function clock(start = Date.parse('2024-01-02T15:04:05.000Z')) {
  const c = { now: start, fn: () => c.now }
  return c
}

/** SCS's test mux: /put, /get (500 "foo does not exist in session" when missing), plus extras. */
async function app(options: SessionManagerOptions = {}, extra: Record<string, Handler> = {}) {
  const sessions = new SessionManager(options)
  const routes: Record<string, Handler> = {
    '/put': (_req, res, s) => {
      s.put('foo', 'bar')
      res.end('OK')
    },
    '/get': (_req, res, s) => {
      const v = s.get('foo')
      if (v === undefined) {
        res.statusCode = 500
        res.end('foo does not exist in session\n')
        return
      }
      res.end(String(v))
    },
    ...extra,
  }
  const server = await serve(
    loadAndSave(sessions, async (req, res) => {
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname]
      if (route === undefined) {
        res.statusCode = 404
        res.end()
        return
      }
      await route(req, res, sessions.from(req))
    }),
  )
  servers.push(server)
  return { sessions, client: new Client(server.url), url: server.url }
}

describe('node loadAndSave: SCS session_test.go', () => {
  it('issues a cookie on put, none on a read, and keeps the token on the next put (TestEnable)', async () => {
    const { client } = await app()
    const put = await client.get('/put')
    expect(put.setCookie).toHaveLength(1)
    const t1 = tokenOf(put.setCookie[0])
    expect(t1).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const get = await client.get('/get')
    expect(get.body).toBe('bar')
    expect(get.setCookie).toEqual([])
    const again = await client.get('/put')
    expect(tokenOf(again.setCookie[0])).toBe(t1)
  })

  it('ends a session at its lifetime (TestLifetime)', async () => {
    const c = clock()
    const store = new MemoryStore({ cleanupInterval: 0, clock: c.fn })
    const { client } = await app({ lifetime: 500, clock: c.fn, store })
    await client.get('/put')
    expect((await client.get('/get')).body).toBe('bar')
    c.now += 1000
    expect((await client.get('/get')).body).toBe('foo does not exist in session\n')
  })

  it('slides the idle window on every request and ends the session after it (TestIdleTimeout)', async () => {
    const c = clock()
    const store = new MemoryStore({ cleanupInterval: 0, clock: c.fn })
    const { client } = await app({ idleTimeout: 200, lifetime: 1000, clock: c.fn, store })
    await client.get('/put')
    c.now += 100
    const refreshed = await client.get('/get')
    expect(refreshed.setCookie[0]).toContain('Max-Age=1;')
    c.now += 150
    expect((await client.get('/get')).body).toBe('bar')
    c.now += 201
    expect((await client.get('/get')).body).toBe('foo does not exist in session\n')
  })

  it('sends the deletion cookie on destroy and forgets the data (TestDestroy)', async () => {
    const { client } = await app(
      {},
      {
        '/destroy': async (_req, res, s) => {
          await s.destroy()
          res.end()
        },
      },
    )
    await client.get('/put')
    const destroyed = await client.get('/destroy')
    const cookie = destroyed.setCookie[0] ?? ''
    expect(cookie.startsWith('session=;')).toBe(true)
    expect(cookie).toContain('Expires=Thu, 01 Jan 1970 00:00:01 GMT')
    expect(cookie).toContain('Max-Age=0')
    expect((await client.get('/get')).body).toBe('foo does not exist in session\n')
  })

  it('issues a new token on renew and keeps the data (TestRenewToken)', async () => {
    const { client } = await app(
      {},
      {
        '/renew': async (_req, res, s) => {
          await s.renewToken()
          res.end()
        },
      },
    )
    const a = tokenOf((await client.get('/put')).setCookie[0])
    const b = tokenOf((await client.get('/renew')).setCookie[0])
    expect(b).not.toBe(a)
    expect(b).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await client.get('/get')).body).toBe('bar')
  })

  it('gives a persistent cookie only with rememberMe(true) when persist is false (TestRememberMe)', async () => {
    const { client } = await app(
      { cookie: { persist: false } },
      {
        '/put-normal': (_req, res, s) => {
          s.put('foo', 'bar')
          res.end()
        },
        '/put-rememberMe-true': (_req, res, s) => {
          s.rememberMe(true)
          s.put('foo', 'bar')
          res.end()
        },
        '/put-rememberMe-false': (_req, res, s) => {
          s.rememberMe(false)
          s.put('foo', 'bar')
          res.end()
        },
      },
    )
    const normal = (await client.get('/put-normal')).setCookie[0]
    expect(normal).not.toContain('Max-Age=')
    expect(normal).not.toContain('Expires=')
    const remembered = (await client.get('/put-rememberMe-true')).setCookie[0]
    expect(remembered).toContain('Max-Age=')
    expect(remembered).toContain('Expires=')
    const forgotten = (await client.get('/put-rememberMe-false')).setCookie[0]
    expect(forgotten).not.toContain('Max-Age=')
    expect(forgotten).not.toContain('Expires=')
  })

  it('iterates the sessions of three clients (TestIterate)', async () => {
    const { sessions, url } = await app(
      {},
      {
        '/put-i': (req, res, s) => {
          s.put('foo', new URL(req.url ?? '', 'http://x').searchParams.get('foo'))
          res.end()
        },
      },
    )
    for (const i of [0, 1, 2]) await new Client(url).get(`/put-i?foo=${i}`)
    const seen: string[] = []
    await sessions.iterate((s) => {
      seen.push(s.getString('foo'))
    })
    expect(seen.sort()).toEqual(['0', '1', '2'])
  })
})

describe('node loadAndSave: headers SCS sends (reference §2.3, §7.8)', () => {
  it('sends Vary: Cookie on every response, with and without a session change', async () => {
    const { client } = await app()
    expect((await client.get('/get')).headers.get('vary')).toBe('Cookie')
    expect((await client.get('/put')).headers.get('vary')).toBe('Cookie')
    expect((await client.get('/nowhere')).headers.get('vary')).toBe('Cookie')
  })

  it('merges Cookie into an existing Vary instead of duplicating it', async () => {
    const { client } = await app(
      {},
      {
        '/vary': (_req, res) => {
          res.setHeader('Vary', 'Accept-Encoding')
          res.end()
        },
        '/vary-cookie': (_req, res) => {
          res.setHeader('Vary', 'cookie')
          res.end()
        },
      },
    )
    expect((await client.get('/vary')).headers.get('vary')).toBe('Accept-Encoding, Cookie')
    expect((await client.get('/vary-cookie')).headers.get('vary')).toBe('cookie')
  })

  it('adds Cache-Control: no-cache="Set-Cookie" with each Set-Cookie only', async () => {
    const { client } = await app()
    expect((await client.get('/put')).headers.get('cache-control')).toBe('no-cache="Set-Cookie"')
    expect((await client.get('/get')).headers.get('cache-control')).toBeNull()
  })

  it("sends Cache-Control: no-store with cacheControl: 'no-store'", async () => {
    const { client } = await app({ cacheControl: 'no-store' })
    expect((await client.get('/put')).headers.get('cache-control')).toBe('no-store')
  })

  it('loads nothing and sends no cookie for an unknown token on a read', async () => {
    const store = new RecordingStore({ cleanupInterval: 0 })
    const { client } = await app({ store })
    const unknown = generateToken()
    const res = await client.get('/get', { headers: { cookie: `session=${unknown}` } })
    expect(res.setCookie).toEqual([])
    expect(store.ops()).toEqual(['find', 'ended'])
    const put = await client.get('/put', { headers: { cookie: `session=${unknown}` } })
    expect(tokenOf(put.setCookie[0])).not.toBe(unknown)
  })

  it('calls onError with the store failure and never runs the handler on a load error', async () => {
    const errors: Error[] = []
    let ran = false
    const { client } = await app(
      {
        store: failingStore(['find']),
        onError: (err, _req, res) => {
          errors.push(err)
          res.statusCode = 503
          res.end('store down')
        },
      },
      {
        '/ran': (_r, res) => {
          ran = true
          res.end()
        },
      },
    )
    const res = await client.get('/ran', { headers: { cookie: `session=${generateToken()}` } })
    expect(res.status).toBe(503)
    expect(ran).toBe(false)
    expect(errors[0]).toMatchObject({ code: 'ERR_STORE' })
    expect(res.headers.get('vary')).toBe('Cookie')
  })

  it("answers SCS's default 500 for a store failure", async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const { client } = await app({ store: failingStore(['find']) })
    const res = await client.get('/get', { headers: { cookie: `session=${generateToken()}` } })
    expect(res.status).toBe(500)
    expect(res.body).toBe('Internal Server Error\n')
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('keeps two managers with different cookie names apart on one request', async () => {
    const a = new SessionManager()
    const b = new SessionManager({ cookie: { name: 'flash' } })
    const server = await serve(
      loadAndSave(
        a,
        loadAndSave(b, (req, res) => {
          a.from(req).put('who', 'a')
          b.from(req).put('who', 'b')
          res.end()
        }),
      ),
    )
    servers.push(server)
    const res = await new Client(server.url).get('/')
    expect(res.setCookie.map((c) => c.slice(0, c.indexOf('=')))).toEqual(['session', 'flash'])
    expect(res.headers.get('vary')).toBe('Cookie')
  })
})

describe('node loadAndSave: improvements over SCS (DESIGN.md 1, 2, 7, 8)', () => {
  it('turns a failed commit into the error response, with no Set-Cookie and no handler bytes', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const { client } = await app(
      { store: failingStore(['commit']) },
      {
        '/put-then-write': (_req, res, s) => {
          s.put('foo', 'bar')
          res.setHeader('Content-Length', '11')
          res.writeHead(200, { 'X-Handler': 'yes' })
          res.end('handler ok!')
        },
      },
    )
    const res = await client.get('/put-then-write')
    expect(res.status).toBe(500)
    expect(res.setCookie).toEqual([])
    expect(res.body).toBe('Internal Server Error\n')
    expect(res.headers.get('x-handler')).toBeNull()
    expect((await client.get('/nowhere')).status).toBe(404)
  })

  it('commits before the first byte of a streamed response, and the stream still streams', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const { client } = await app(
      {},
      {
        '/stream': async (_req, res, s) => {
          s.put('foo', 'streamed')
          res.writeHead(200, { 'Content-Type': 'text/plain' })
          res.write('one,')
          res.flushHeaders()
          await gate
          res.write('two,')
          res.end('three')
        },
      },
    )
    const pending = fetch(`${client.base}/stream`)
    const res = await pending
    // Headers arrived while the handler is still blocked: the response streams.
    expect(res.headers.getSetCookie()).toHaveLength(1)
    release()
    expect(await res.text()).toBe('one,two,three')
    client.jar.set('session', tokenOf(res.headers.getSetCookie()[0]))
    expect((await client.get('/get')).body).toBe('streamed')
  })

  it('throws ERR_SESSION_SENT for a change after the response started, instead of losing it', async () => {
    let thrown: unknown
    const { client } = await app(
      {},
      {
        '/late': (_req, res, s) => {
          res.end('done')
          try {
            s.put('foo', 'late')
          } catch (err) {
            thrown = err
          }
        },
      },
    )
    const res = await client.get('/late')
    expect(res.body).toBe('done')
    expect(thrown).toMatchObject({ code: 'ERR_SESSION_SENT' })
  })

  it('sends undecodable stored data to onError and keeps the process and the row alive', async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    const token = generateToken()
    await store.commit(token, new TextEncoder().encode('not json'), new Date(Date.now() + 60_000))
    const errors: Error[] = []
    const { client } = await app({
      store,
      onError: (err, _req, res) => {
        errors.push(err)
        res.statusCode = 500
        res.end()
      },
    })
    const res = await client.get('/get', { headers: { cookie: `session=${token}` } })
    expect(res.status).toBe(500)
    expect(errors[0]).toMatchObject({ code: 'ERR_CODEC' })
    expect(await store.find(token)).toBeDefined()
  })

  it('does not let a slower request undo a logout that finished first', async () => {
    let releaseSlow!: () => void
    const slowGate = new Promise<void>((r) => {
      releaseSlow = r
    })
    const store = new MemoryStore({ cleanupInterval: 0 })
    const { client } = await app(
      { store },
      {
        '/slow-put': async (_req, res, s) => {
          await slowGate
          s.put('foo', 'resurrected?')
          res.end()
        },
        '/logout': async (_req, res, s) => {
          await s.destroy()
          res.end()
        },
      },
    )
    const token = tokenOf((await client.get('/put')).setCookie[0])
    const slow = client.get('/slow-put')
    await new Promise((r) => setTimeout(r, 20))
    const logout = await client.get('/logout')
    expect(logout.setCookie[0]).toContain('Max-Age=0')
    releaseSlow()
    const late = await slow
    expect(late.setCookie).toEqual([])
    expect(await store.find(token)).toBeUndefined()
    expect(await store.all()).toEqual(new Map())
  })

  it('sends a handler error to onError instead of crashing the process', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    const { client } = await app(
      {},
      {
        '/throw': () => {
          throw new Error('handler bug')
        },
      },
    )
    expect((await client.get('/throw')).status).toBe(500)
    expect((await client.get('/put')).status).toBe(200)
  })

  it('stores through the codec so every value type round-trips over HTTP', async () => {
    const when = new Date('2024-05-06T07:08:09.010Z')
    const { client } = await app(
      { codec: jsonCodec },
      {
        '/put-typed': (_req, res, s) => {
          s.put('foo', { when, n: 10n, bytes: new Uint8Array([1, 2]) })
          res.end()
        },
        '/get-typed': (_req, res, s) => {
          const v = s.get('foo') as { when: Date; n: bigint; bytes: Uint8Array }
          res.end(`${v.when.toISOString()} ${v.n + 1n} ${v.bytes.join('.')}`)
        },
      },
    )
    await client.get('/put-typed')
    expect((await client.get('/get-typed')).body).toBe('2024-05-06T07:08:09.010Z 11 1.2')
  })
})
