import { readFileSync } from 'node:fs'
import http, { type ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Session, SessionManagerOptions, Store } from '../../src/index.ts'
import { MemoryStore, SessionError, SessionManager } from '../../src/index.ts'

/** What a route sees, whatever the framework: the session of each manager on this request. */
export interface Exchange {
  session(manager: SessionManager): Session
}

/** What a route answers: a status, headers, and a body given whole or as streamed chunks. */
export interface Reply {
  status?: number
  headers?: Record<string, string>
  body?: string
  /** Streamed chunk by chunk; the framework must not buffer it before sending headers. */
  stream?: () => AsyncIterable<string>
}

/** A framework-neutral route; the adapter's test file maps it onto its framework's handler. */
export type Route = (exchange: Exchange) => Reply | undefined | Promise<Reply | undefined>

/** A TLS key and certificate, PEM. */
export interface TlsPair {
  key: string
  cert: string
}

/** The suite's self-signed certificate for localhost and 127.0.0.1 (test/fixtures/tls). */
export const TEST_TLS: TlsPair = {
  key: readFileSync(new URL('../fixtures/tls/localhost-key.pem', import.meta.url), 'utf8'),
  cert: readFileSync(new URL('../fixtures/tls/localhost-cert.pem', import.meta.url), 'utf8'),
}

/** The app to build: `loadAndSave(manager)` for each manager, outermost first, then the routes. */
export interface AppSpec {
  managers: SessionManager[]
  routes: Record<string, Route>
  /** Serve over HTTPS with this key and certificate (and `request` over HTTPS, trusting it). */
  tls?: TlsPair
  /**
   * The app sits behind a proxy it trusts: the framework's own setting is on (Express
   * `trust proxy`, Koa `app.proxy`, Fastify `trustProxy`); adapters without one leave it to the
   * manager's `trustProxy` option, which the suite sets as well.
   */
  trustProxy?: boolean
}

/** A running app: `request` sends one request (over HTTP to 127.0.0.1) and resolves its response. */
export interface TestApp {
  request(path: string, init?: RequestInit): Promise<Response>
  close(): Promise<void>
}

/** Builds and starts the app for one test. */
export type MakeApp = (spec: AppSpec) => Promise<TestApp>

/** Framework limits the suite must respect. */
export interface AdapterTraits {
  /** The framework's error path can carry our Vary header (false when the runtime builds the 500). */
  errorVary?: boolean
}

const NO_BODY = new Set([101, 204, 205, 304])

// The platform's fetch takes no CA, so requests to the self-signed server go through node:https.
function fetchTls(url: string, init: RequestInit | undefined, ca: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, name) => {
      headers[name] = value
    })
    const req = https.request(url, { method: init?.method ?? 'GET', headers, ca }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const received = new Headers()
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          received.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string)
        }
        const status = res.statusCode ?? 0
        const body = NO_BODY.has(status) ? null : Buffer.concat(chunks)
        resolve(new Response(body, { status, headers: received }))
      })
    })
    req.on('error', reject)
    req.end()
  })
}

/** `request` for a TestApp on 127.0.0.1:`port`, over HTTPS (trusting `tls.cert`) when `tls` is given. */
export function requester(port: number, tls?: TlsPair): TestApp['request'] {
  if (tls === undefined) return (path, init) => fetch(`http://127.0.0.1:${port}${path}`, init)
  return (path, init) => fetchTls(`https://127.0.0.1:${port}${path}`, init, tls.cert)
}

/** Serves a node:http listener on 127.0.0.1 at a free port (HTTPS with `tls`); for adapters' `makeApp`. */
export async function listen(listener: http.RequestListener, tls?: TlsPair): Promise<TestApp> {
  const server = tls === undefined ? http.createServer(listener) : https.createServer(tls, listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    request: requester(port, tls),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err ? reject(err) : resolve()))
      }),
  }
}

/** A Web ReadableStream over text chunks, pulled only when the consumer reads. */
export function textStream(chunks: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]()
  const encoder = new TextEncoder()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await iterator.next()
        if (done) controller.close()
        else controller.enqueue(encoder.encode(value))
      },
    },
    { highWaterMark: 0 },
  )
}

/** Writes a route's reply on a node:http response (node and Express), chunk by chunk when streamed. */
export async function sendNode(res: ServerResponse, reply: Reply | undefined): Promise<void> {
  res.statusCode = reply?.status ?? 200
  for (const [name, value] of Object.entries(reply?.headers ?? {})) res.setHeader(name, value)
  if (reply?.stream === undefined) {
    res.end(reply?.body ?? '')
    return
  }
  for await (const chunk of reply.stream()) {
    // A failed commit ends the response with the error; the rest of the stream is dropped.
    if (res.writableEnded || res.destroyed) return
    res.write(chunk)
  }
  if (!res.writableEnded) res.end()
}

/** A route's reply as a Fetch Response (Fetch and Hono). */
export function toResponse(reply: Reply | undefined): Response {
  const body = reply?.stream !== undefined ? textStream(reply.stream()) : (reply?.body ?? '')
  return new Response(body, { status: reply?.status ?? 200, headers: reply?.headers ?? {} })
}

/** A MemoryStore whose find and commit can be made to fail, for failure injection. */
class FlakyStore extends MemoryStore implements Store {
  failFind = false
  failCommit = false

  override async find(key: string): Promise<Uint8Array | undefined> {
    if (this.failFind) throw new Error('disk on fire (find)')
    return super.find(key)
  }

  override async commit(...args: Parameters<MemoryStore['commit']>): Promise<boolean> {
    if (this.failCommit) throw new Error('disk on fire (commit)')
    return super.commit(...args)
  }
}

const TOKEN = '[A-Za-z0-9_-]{43}'
const DATE = '[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT'
const DELETION =
  'session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; SameSite=Lax'
const MESSAGE = 'Hello from a session!'

const setCookies = (res: Response): string[] => res.headers.getSetCookie()
const cookiePair = (setCookie: string): string => setCookie.split(';')[0] ?? ''
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2))

/** A promise the test resolves by hand, to hold a streamed response open. */
interface Gate {
  wait: Promise<void>
  open(): void
}

function gate(): Gate {
  let open = (): void => undefined
  const wait = new Promise<void>((resolve) => {
    open = resolve
  })
  return { wait, open }
}

/** The seed's routes plus the ones the suite's cases need, for the given manager. */
function seedRoutes(m: SessionManager, log: string[], held: Gate): Record<string, Route> {
  return {
    '/stream-held': (x) => {
      x.session(m).put('message', MESSAGE)
      return {
        stream: async function* () {
          yield 'first '
          await held.wait
          yield 'last'
        },
      }
    },
    '/put': (x) => {
      x.session(m).put('message', MESSAGE)
      return undefined
    },
    '/get': (x) => ({ body: x.session(m).getString('message') }),
    '/renew': async (x) => {
      await x.session(m).renewToken()
      return undefined
    },
    '/destroy': async (x) => {
      await x.session(m).destroy()
      return undefined
    },
    '/sign-in': (x) => {
      ;(x.session(m) as Session<{ userId: string }>).put('userId', 'ada')
      return undefined
    },
    '/remember': (x) => {
      x.session(m).rememberMe(true)
      return undefined
    },
    '/vary': () => ({ headers: { Vary: 'Accept-Encoding' }, body: 'v' }),
    '/vary-cookie': () => ({ headers: { Vary: 'Cookie' }, body: 'v' }),
    '/put-cached': (x) => {
      x.session(m).put('message', MESSAGE)
      return { headers: { 'Cache-Control': 'private' }, body: 'c' }
    },
    '/stream': (x) => {
      const session = x.session(m)
      session.put('message', MESSAGE)
      return {
        headers: { 'Content-Type': 'text/plain' },
        stream: async function* () {
          yield 'one '
          await tick()
          try {
            session.put('message', 'too late')
            log.push('put accepted')
          } catch (err) {
            log.push(err instanceof SessionError ? err.code : String(err))
          }
          yield 'two '
          await tick()
          yield 'three'
        },
      }
    },
  }
}

/**
 * The shared adapter suite: the seed's `/put` and `/get`, renew, destroy, remember-me, idle and
 * absolute expiry, cookie attributes, Vary, Cache-Control, store failures, streaming and two
 * managers, each through the real framework that `makeApp` builds.
 */
export function describeAdapter(name: string, makeApp: MakeApp, traits: AdapterTraits = {}): void {
  describe(`${name} adapter (shared suite)`, () => {
    let app: TestApp | undefined
    const stores: MemoryStore[] = []

    afterEach(async () => {
      await app?.close()
      app = undefined
      for (const store of stores.splice(0)) store.close()
    })

    async function start(
      options: SessionManagerOptions = {},
      serving: Pick<AppSpec, 'tls' | 'trustProxy'> = {},
    ): Promise<{ app: TestApp; manager: SessionManager; log: string[]; held: Gate }> {
      const store =
        (options.store as MemoryStore | undefined) ??
        new MemoryStore({ cleanupInterval: 0, clock: options.clock ?? Date.now })
      stores.push(store)
      const manager = new SessionManager({ ...options, store })
      const log: string[] = []
      const held = gate()
      app = await makeApp({
        managers: [manager],
        routes: seedRoutes(manager, log, held),
        ...serving,
      })
      return { app, manager, log, held }
    }

    async function put(a: TestApp, path = '/put'): Promise<string> {
      const res = await a.request(path)
      expect(res.status).toBe(200)
      const [cookie] = setCookies(res)
      expect(cookie).toBeDefined()
      return cookiePair(cookie ?? '')
    }

    const get = (a: TestApp, cookie: string): Promise<Response> =>
      a.request('/get', { headers: { Cookie: cookie } })

    describe('the seed example', () => {
      it('/put sets a persistent session cookie and /get reads the message back', async () => {
        const { app } = await start()
        const res = await app.request('/put')
        expect(res.status).toBe(200)
        const cookies = setCookies(res)
        expect(cookies).toHaveLength(1)
        expect(cookies[0]).toMatch(
          new RegExp(
            `^session=${TOKEN}; Path=/; Expires=${DATE}; Max-Age=(86400|86399); HttpOnly; SameSite=Lax$`,
          ),
        )
        expect(res.headers.get('cache-control')).toBe('no-cache="Set-Cookie"')
        const got = await get(app, cookiePair(cookies[0] ?? ''))
        expect(got.status).toBe(200)
        expect(await got.text()).toBe(MESSAGE)
        expect(setCookies(got)).toEqual([])
        expect(got.headers.get('cache-control')).toBeNull()
      })

      it('/get without a cookie answers empty and sets no cookie', async () => {
        const { app } = await start()
        const res = await app.request('/get')
        expect(await res.text()).toBe('')
        expect(setCookies(res)).toEqual([])
      })

      it('a /put with the cookie writes the same token again', async () => {
        const { app } = await start()
        const cookie = await put(app)
        const again = await app.request('/put', { headers: { Cookie: cookie } })
        expect(cookiePair(setCookies(again)[0] ?? '')).toBe(cookie)
      })

      it('a /put with an unknown token issues a new token', async () => {
        const { app } = await start()
        const stale = `session=${'A'.repeat(43)}`
        const res = await app.request('/put', { headers: { Cookie: stale } })
        const fresh = cookiePair(setCookies(res)[0] ?? '')
        expect(fresh).toMatch(new RegExp(`^session=${TOKEN}$`))
        expect(fresh).not.toBe(stale)
      })

      it('ignores an unknown token: empty body, no cookie', async () => {
        const { app } = await start()
        const res = await get(app, `session=${'A'.repeat(43)}`)
        expect(await res.text()).toBe('')
        expect(setCookies(res)).toEqual([])
      })
    })

    describe('Session#renewToken', () => {
      it('sends a new token that keeps the data; the old token is gone', async () => {
        const { app } = await start()
        const old = await put(app)
        const res = await app.request('/renew', { headers: { Cookie: old } })
        const [renewed] = setCookies(res)
        expect(renewed).toMatch(new RegExp(`^session=${TOKEN}; `))
        const fresh = cookiePair(renewed ?? '')
        expect(fresh).not.toBe(old)
        expect(await (await get(app, fresh)).text()).toBe(MESSAGE)
        expect(await (await get(app, old)).text()).toBe('')
      })
    })

    describe('tokenHeader, for API clients', () => {
      it('sends the token in the header, reads it back from it, and never sets a cookie', async () => {
        const { app } = await start({ tokenHeader: 'X-Session-Token' })
        const put = await app.request('/put')
        expect(put.status).toBe(200)
        const token = put.headers.get('x-session-token') ?? ''
        expect(token).toMatch(/^[\w-]{43}$/)
        expect(setCookies(put)).toEqual([])
        expect(put.headers.get('vary')).toContain('X-Session-Token')
        expect(put.headers.get('cache-control')).toBe('no-store')
        const get = await app.request('/get', { headers: { 'X-Session-Token': token } })
        expect(await get.text()).toBe(MESSAGE)
        expect(get.headers.get('x-session-token')).toBeNull()
        // A cookie is not a token here: the header is the only way in.
        const byCookie = await app.request('/get', { headers: { Cookie: `session=${token}` } })
        expect(await byCookie.text()).toBe('')
      })

      it('answers a renewal with the new token and a destroy with an empty header', async () => {
        const { app } = await start({ tokenHeader: 'X-Session-Token' })
        const token = (await app.request('/put')).headers.get('x-session-token') ?? ''
        const renewed = await app.request('/renew', { headers: { 'X-Session-Token': token } })
        const next = renewed.headers.get('x-session-token') ?? ''
        expect(next).toMatch(/^[\w-]{43}$/)
        expect(next).not.toBe(token)
        const destroyed = await app.request('/destroy', { headers: { 'X-Session-Token': next } })
        expect(destroyed.headers.get('x-session-token')).toBe('')
        expect(setCookies(destroyed)).toEqual([])
        const after = await app.request('/get', { headers: { 'X-Session-Token': next } })
        expect(await after.text()).toBe('')
      })

      it('uses Bearer both ways for tokenHeader: Authorization', async () => {
        const { app } = await start({ tokenHeader: 'Authorization' })
        const put = await app.request('/put')
        const value = put.headers.get('authorization') ?? ''
        expect(value).toMatch(/^Bearer [\w-]{43}$/)
        const get = await app.request('/get', { headers: { Authorization: value } })
        expect(await get.text()).toBe(MESSAGE)
        const bare = await app.request('/get', { headers: { Authorization: value.slice(7) } })
        expect(await bare.text()).toBe('')
      })
    })

    describe('owner index and device details', () => {
      it('records the User-Agent (and, where the framework knows it, the IP) a session signed in with', async () => {
        const { app, manager } = await start({ owner: 'userId', deviceInfo: true })
        const res = await app.request('/sign-in', { headers: { 'User-Agent': 'TestBrowser/1.0' } })
        expect(res.status).toBe(200)
        const [info, ...rest] = await manager.listOwned('ada')
        expect(rest).toEqual([])
        expect(info?.userAgent).toBe('TestBrowser/1.0')
        if (info?.ip !== undefined) expect(info.ip).toMatch(/127\.0\.0\.1/)
        expect(info?.id).not.toContain(cookiePair(setCookies(res)[0] ?? '').split('=')[1] ?? '?')
      })

      it('records nothing about the device without deviceInfo', async () => {
        const { app, manager } = await start({ owner: 'userId' })
        await app.request('/sign-in', { headers: { 'User-Agent': 'TestBrowser/1.0' } })
        const [info] = await manager.listOwned('ada')
        expect(info).toBeDefined()
        expect(info?.userAgent).toBeUndefined()
        expect(info?.ip).toBeUndefined()
      })
    })

    describe('Session#destroy', () => {
      it("sends SCS's deletion cookie and the session is gone", async () => {
        const { app } = await start()
        const cookie = await put(app)
        const res = await app.request('/destroy', { headers: { Cookie: cookie } })
        expect(setCookies(res)).toEqual([DELETION])
        expect(res.headers.get('cache-control')).toBe('no-cache="Set-Cookie"')
        expect(await (await get(app, cookie)).text()).toBe('')
      })
    })

    describe('Session#rememberMe with cookie.persist false', () => {
      it('sends a browser-session cookie until rememberMe(true)', async () => {
        const { app } = await start({ cookie: { persist: false } })
        const res = await app.request('/put')
        const [plain] = setCookies(res)
        expect(plain).toMatch(new RegExp(`^session=${TOKEN}; Path=/; HttpOnly; SameSite=Lax$`))
        const remembered = await app.request('/remember', {
          headers: { Cookie: cookiePair(plain ?? '') },
        })
        const [persistent] = setCookies(remembered)
        expect(persistent).toMatch(
          new RegExp(
            `^session=${TOKEN}; Path=/; Expires=${DATE}; Max-Age=\\d+; HttpOnly; SameSite=Lax$`,
          ),
        )
        expect(cookiePair(persistent ?? '')).toBe(cookiePair(plain ?? ''))
      })
    })

    describe('expiry (injected clock)', () => {
      it('idle timeout: each request slides the window; after a quiet spell the session is gone', async () => {
        let now = Date.UTC(2030, 0, 1)
        const clock = (): number => now
        const { app } = await start({ idleTimeout: 20 * 60_000, clock })
        const res = await app.request('/put')
        const [first] = setCookies(res)
        expect(first).toMatch(/; Max-Age=1200; /)
        const cookie = cookiePair(first ?? '')
        now += 19 * 60_000
        const kept = await get(app, cookie)
        expect(await kept.text()).toBe(MESSAGE)
        // SCS re-sends the cookie on every request under an idle timeout.
        const [refreshed] = setCookies(kept)
        expect(refreshed).toMatch(/; Max-Age=1200; /)
        now += 19 * 60_000
        expect(await (await get(app, cookie)).text()).toBe(MESSAGE)
        now += 21 * 60_000
        const gone = await get(app, cookie)
        expect(await gone.text()).toBe('')
        expect(setCookies(gone)).toEqual([])
      })

      it('absolute lifetime: the session ends at its deadline however active it is', async () => {
        let now = Date.UTC(2030, 0, 1)
        const clock = (): number => now
        const { app } = await start({ lifetime: 60 * 60_000, clock })
        const cookie = await put(app)
        now += 59 * 60_000
        expect(await (await get(app, cookie)).text()).toBe(MESSAGE)
        now += 2 * 60_000
        expect(await (await get(app, cookie)).text()).toBe('')
      })

      it('writes Expires from the expiry rounded up to the next second (Go)', async () => {
        const now = Date.UTC(2030, 0, 1, 12, 0, 0, 250)
        const { app } = await start({ lifetime: 60 * 60_000, clock: () => now })
        const res = await app.request('/put')
        expect(setCookies(res)[0]).toContain(
          '; Expires=Tue, 01 Jan 2030 13:00:01 GMT; Max-Age=3600;',
        )
      })
    })

    describe('cookie attributes', () => {
      it('writes every attribute in Go order: Path, Domain, Expires, Max-Age, HttpOnly, Secure, SameSite, Partitioned', async () => {
        const { app } = await start({
          cookie: {
            name: 'sid',
            domain: '.example.com',
            path: '/app',
            secure: true,
            sameSite: 'strict',
            partitioned: true,
          },
        })
        const res = await app.request('/put')
        expect(setCookies(res)[0]).toMatch(
          new RegExp(
            `^sid=${TOKEN}; Path=/app; Domain=example.com; Expires=${DATE}; Max-Age=\\d+; HttpOnly; Secure; SameSite=Strict; Partitioned$`,
          ),
        )
      })

      it('writes SameSite=None, omits HttpOnly when off, and omits Path when empty', async () => {
        const { app } = await start({
          cookie: { sameSite: 'none', secure: true, httpOnly: false, path: '', persist: false },
        })
        const res = await app.request('/put')
        expect(setCookies(res)[0]).toMatch(new RegExp(`^session=${TOKEN}; Secure; SameSite=None$`))
      })

      it('the deletion cookie carries the same attributes', async () => {
        const { app } = await start({
          cookie: { domain: 'example.com', secure: true, sameSite: 'strict', partitioned: true },
        })
        const cookie = await put(app)
        const res = await app.request('/destroy', { headers: { Cookie: cookie } })
        expect(setCookies(res)).toEqual([
          'session=; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Strict; Partitioned',
        ])
      })
    })

    describe("cookie.secure: 'auto'", () => {
      const auto: SessionManagerOptions = { cookie: { secure: 'auto' } }
      const LIVE = new RegExp(`^session=${TOKEN}; Path=/; Expires=${DATE}; Max-Age=\\d+; HttpOnly`)
      const isSecure = (cookie: string | undefined): boolean =>
        (cookie ?? '').split('; ').includes('Secure')

      it('over HTTPS, the session cookie and the deletion cookie carry Secure', async () => {
        const { app } = await start(auto, { tls: TEST_TLS })
        const res = await app.request('/put')
        const [cookie] = setCookies(res)
        expect(cookie).toMatch(LIVE)
        expect(cookie).toMatch(/; HttpOnly; Secure; SameSite=Lax$/)
        expect(await (await get(app, cookiePair(cookie ?? ''))).text()).toBe(MESSAGE)
        const destroyed = await app.request('/destroy', {
          headers: { Cookie: cookiePair(cookie ?? '') },
        })
        expect(setCookies(destroyed)).toEqual([
          `${DELETION.replace('; SameSite', '; Secure; SameSite')}`,
        ])
      })

      it('over plain http (http://localhost) sends no Secure, even with a forged X-Forwarded-Proto', async () => {
        const { app } = await start(auto)
        const plain = setCookies(await app.request('/put'))[0]
        expect(plain).toMatch(LIVE)
        expect(isSecure(plain)).toBe(false)
        const forged = await app.request('/put', { headers: { 'X-Forwarded-Proto': 'https' } })
        expect(isSecure(setCookies(forged)[0])).toBe(false)
        const cookie = cookiePair(plain ?? '')
        const destroyed = await app.request('/destroy', { headers: { Cookie: cookie } })
        expect(setCookies(destroyed)).toEqual([DELETION])
      })

      // Which of several comma-separated values counts is each framework's rule (Fastify: the last).
      it('behind a trusted proxy, X-Forwarded-Proto decides', async () => {
        const { app } = await start({ ...auto, trustProxy: true }, { trustProxy: true })
        const via = async (proto: string | undefined): Promise<boolean> => {
          const headers: Record<string, string> =
            proto === undefined ? {} : { 'X-Forwarded-Proto': proto }
          const [cookie] = setCookies(await app.request('/put', { headers }))
          expect(cookie).toMatch(LIVE)
          return isSecure(cookie)
        }
        expect(await via('https')).toBe(true)
        expect(await via('http')).toBe(false)
        expect(await via(undefined)).toBe(false)
      })

      it('secure: true sends Secure over plain http and false leaves it off over HTTPS', async () => {
        const { app: plain } = await start({ cookie: { secure: true } })
        expect(isSecure(setCookies(await plain.request('/put'))[0])).toBe(true)
        await plain.close()
        const { app: tls } = await start({ cookie: { secure: false } }, { tls: TEST_TLS })
        const [cookie] = setCookies(await tls.request('/put'))
        expect(cookie).toMatch(LIVE)
        expect(isSecure(cookie)).toBe(false)
      })
    })

    describe('Vary and Cache-Control', () => {
      it('sends Vary: Cookie on every response, with or without a cookie', async () => {
        const { app } = await start()
        expect((await app.request('/get')).headers.get('vary')).toBe('Cookie')
        expect((await app.request('/put')).headers.get('vary')).toBe('Cookie')
      })

      it('merges Cookie into an existing Vary and never lists it twice', async () => {
        const { app } = await start()
        expect((await app.request('/vary')).headers.get('vary')).toBe('Accept-Encoding, Cookie')
        expect((await app.request('/vary-cookie')).headers.get('vary')).toBe('Cookie')
      })

      it('appends no-cache="Set-Cookie" to the handler\'s Cache-Control', async () => {
        const { app } = await start()
        const res = await app.request('/put-cached')
        expect(setCookies(res)).toHaveLength(1)
        expect(res.headers.get('cache-control')).toBe('private, no-cache="Set-Cookie"')
      })

      it("with cacheControl 'no-store' replaces the Cache-Control of a response with a cookie", async () => {
        const { app } = await start({ cacheControl: 'no-store' })
        const res = await app.request('/put-cached')
        expect(res.headers.get('cache-control')).toBe('no-store')
      })
    })

    describe('store failures', () => {
      // The default error handlers log each failure; the assertions are on the responses.
      beforeEach(() => {
        vi.spyOn(console, 'error').mockImplementation(() => undefined)
      })
      afterEach(() => {
        vi.restoreAllMocks()
      })

      it('a failing find gives an error response with no Set-Cookie; the next request is fine', async () => {
        const store = new FlakyStore({ cleanupInterval: 0 })
        const { app } = await start({ store })
        const cookie = await put(app)
        store.failFind = true
        const failed = await get(app, cookie)
        expect(failed.status).toBeGreaterThanOrEqual(500)
        expect(setCookies(failed)).toEqual([])
        expect(await failed.text()).not.toContain(MESSAGE)
        if (traits.errorVary !== false) expect(failed.headers.get('vary')).toContain('Cookie')
        store.failFind = false
        const ok = await get(app, cookie)
        expect(ok.status).toBe(200)
        expect(await ok.text()).toBe(MESSAGE)
      })

      it('a session over maxBytes gives an error response with no Set-Cookie and writes nothing', async () => {
        const store = new FlakyStore({ cleanupInterval: 0 })
        const { app } = await start({ store, maxBytes: 16 })
        const failed = await app.request('/put')
        expect(failed.status).toBeGreaterThanOrEqual(500)
        expect(setCookies(failed)).toEqual([])
        await failed.arrayBuffer()
        expect(store.size).toBe(0)
      })

      it('a failing commit gives an error response with no Set-Cookie; the next request is fine', async () => {
        const store = new FlakyStore({ cleanupInterval: 0 })
        const { app } = await start({ store })
        store.failCommit = true
        const failed = await app.request('/put')
        expect(failed.status).toBeGreaterThanOrEqual(500)
        expect(setCookies(failed)).toEqual([])
        expect(failed.headers.get('cache-control') ?? '').not.toContain('Set-Cookie')
        if (traits.errorVary !== false) expect(failed.headers.get('vary')).toContain('Cookie')
        await failed.arrayBuffer()
        expect(store.size).toBe(0)
        store.failCommit = false
        const cookie = await put(app)
        expect(await (await get(app, cookie)).text()).toBe(MESSAGE)
      })

      it('a failing commit on a streamed response sends none of its body', async () => {
        const store = new FlakyStore({ cleanupInterval: 0 })
        const { app } = await start({ store })
        store.failCommit = true
        const failed = await app.request('/stream')
        expect(failed.status).toBeGreaterThanOrEqual(500)
        expect(setCookies(failed)).toEqual([])
        expect(await failed.text()).not.toContain('one')
      })
    })

    describe('streamed responses', () => {
      it('commits before the first chunk: the cookie is on the headers and the body is intact', async () => {
        const { app } = await start()
        const res = await app.request('/stream')
        expect(res.status).toBe(200)
        const [cookie] = setCookies(res)
        expect(cookie).toMatch(new RegExp(`^session=${TOKEN}; `))
        expect(await res.text()).toBe('one two three')
        expect(await (await get(app, cookiePair(cookie ?? ''))).text()).toBe(MESSAGE)
      })

      it('sends the headers and first chunk while the body is still being produced', async () => {
        const { app, held } = await start()
        // Resolves on the response headers: a framework that buffered the body would wait here.
        const res = await app.request('/stream-held')
        expect(setCookies(res)[0]).toMatch(new RegExp(`^session=${TOKEN}; `))
        const reader = res.body?.getReader()
        const first = await reader?.read()
        expect(new TextDecoder().decode(first?.value)).toBe('first ')
        held.open()
        let rest = ''
        for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
          rest += new TextDecoder().decode(chunk.value)
        }
        expect(rest).toBe('last')
      })

      it('a session change after the response started throws ERR_SESSION_SENT', async () => {
        const { app, log } = await start()
        const res = await app.request('/stream')
        expect(await res.text()).toBe('one two three')
        expect(log).toEqual(['ERR_SESSION_SENT'])
        const [cookie] = setCookies(res)
        expect(await (await get(app, cookiePair(cookie ?? ''))).text()).toBe(MESSAGE)
      })
    })

    describe('two managers on one request', () => {
      it('keeps two sessions under different cookie names', async () => {
        const storeA = new MemoryStore({ cleanupInterval: 0 })
        const storeB = new MemoryStore({ cleanupInterval: 0 })
        stores.push(storeA, storeB)
        const a = new SessionManager({ store: storeA, cookie: { name: 'a' } })
        const b = new SessionManager({ store: storeB, cookie: { name: 'b', persist: false } })
        app = await makeApp({
          managers: [a, b],
          routes: {
            '/put': (x) => {
              x.session(a).put('message', 'from a')
              x.session(b).put('message', 'from b')
              return undefined
            },
            '/put-b': (x) => {
              x.session(b).put('message', 'only b')
              return undefined
            },
            '/get': (x) => ({
              body: `${x.session(a).getString('message')}|${x.session(b).getString('message')}`,
            }),
          },
        })
        const res = await app.request('/put')
        const cookies = setCookies(res)
        expect(cookies).toHaveLength(2)
        const byName = new Map(cookies.map((c) => [c.split('=')[0], c]))
        expect(byName.get('a')).toMatch(new RegExp(`^a=${TOKEN}; Path=/; Expires=`))
        expect(byName.get('b')).toMatch(new RegExp(`^b=${TOKEN}; Path=/; HttpOnly; SameSite=Lax$`))
        expect(res.headers.get('vary')).toBe('Cookie')
        const both = cookies.map(cookiePair).join('; ')
        expect(await (await app.request('/get', { headers: { Cookie: both } })).text()).toBe(
          'from a|from b',
        )
        const onlyB = await app.request('/put-b', { headers: { Cookie: both } })
        expect(setCookies(onlyB).map((c) => c.split('=')[0])).toEqual(['b'])
      })
    })
  })
}
