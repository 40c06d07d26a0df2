import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SessionBridge } from './bridge.js'
import type { Codec } from './codec.js'
import { jsonCodec } from './codec.js'
import type { CookieOptions, ResolvedCookieOptions } from './cookie.js'
import { MAX_DEADLINE } from './deadline.js'
import { SessionError } from './errors.js'
import { MemoryStore } from './memory-store.js'
import { nearest } from './nearest.js'
import type { SessionData, SessionKey } from './session.js'
import type { Store } from './store.js'
import { isOwnerIndexStore, storeCapabilities } from './store.js'

/**
 * Handles a session error on node:http and Express (a store failure, undecodable data): it must
 * end the response. The default logs the error and sends SCS's 500 "Internal Server Error".
 */
export type ErrorHandler = (
  err: Error,
  req: IncomingMessage,
  res: ServerResponse,
) => void | Promise<void>

/** What `Cache-Control` a response carrying a Set-Cookie gets: SCS's `no-cache="Set-Cookie"`, or `no-store`. */
export type CacheControlMode = 'no-cache' | 'no-store'

/** What to do with stored data the codec cannot read: fail the request (SCS) or start a new session. */
export type UndecodableMode = 'error' | 'new-session'

/** Options of `new SessionManager()`; every one is optional and validated at construction. */
export interface SessionManagerOptions<Data extends object = SessionData> {
  /** Where sessions live. @default new MemoryStore() */
  store?: Store
  /** Absolute lifetime in ms, from creation or the last renewToken(). @default 86_400_000 (24 h) */
  lifetime?: number
  /** Sliding inactivity window in ms; 0 turns it off. @default 0 */
  idleTimeout?: number
  /**
   * With an idle timeout: a request that changes nothing refreshes the session's expiry (a store
   * `touch`) and its cookie only when they would move by more than this, in ms, instead of on
   * every request as SCS does; so a session may end up to this much earlier than a full idle
   * timeout after its last request. 0 refreshes on every request.
   * @default the smaller of a tenth of the idle timeout and 60_000
   */
  idleRefresh?: number
  /**
   * For API clients: read the token from this request header instead of the cookie, and send a
   * new or renewed token back in the same response header (an empty one when the session is
   * destroyed), with no Set-Cookie. `'Authorization'` carries it as `Bearer <token>` both ways.
   * @default undefined (the cookie)
   */
  tokenHeader?: string
  /** The session cookie's settings. */
  cookie?: CookieOptions
  /** How session values become bytes. @default jsonCodec */
  codec?: Codec
  /** Store SHA-256(token) instead of the token, so a leaked store cannot be replayed. @default false */
  hashTokenInStore?: boolean
  /** Called on node:http and Express when loading or committing fails. @default log + 500 */
  onError?: ErrorHandler
  /** Cache-Control sent with each Set-Cookie. @default 'no-cache' (SCS's `no-cache="Set-Cookie"`) */
  cacheControl?: CacheControlMode
  /** Undecodable stored data: `'error'` goes to onError (SCS); `'new-session'` starts afresh. @default 'error' */
  undecodable?: UndecodableMode
  /**
   * How long, in ms, a renewed or destroyed token is remembered (by stores with `end`/`ended`), so
   * that a request still carrying it gets an empty session and sends no Set-Cookie: an in-flight
   * request can neither replace a fresh sign-in's cookie nor undo a logout. 0 turns it off.
   * @default 60_000
   */
  endedTokenTtl?: number
  /**
   * The data key whose value (a string or a number) owns a session, e.g. `'userId'`: sessions are
   * then indexed by it at commit, for `listOwned`, `revokeOwned` and `revoke`. Without it nothing
   * is indexed and nothing costs more. @default undefined
   */
  owner?: SessionKey<Data>
  /** With `owner`: record the User-Agent and client IP an adapter saw when a session got its owner. @default false */
  deviceInfo?: boolean
  /**
   * The largest encoded session a commit writes, in bytes; a larger one fails with
   * `ERR_TOO_LARGE` before any byte of the response, and nothing is written. 0 turns it off.
   * @default 65_536 (64 KiB)
   */
  maxBytes?: number
  /**
   * Moves the users of another session library over on their next request, signed in: a request
   * with no session token of this manager's but a valid cookie of the old library gets the old
   * session's values in a new session (see `expressSessionBridge`). @default undefined
   */
  bridge?: SessionBridge
  /**
   * With `cookie.secure: 'auto'` on node:http, Fetch and Hono: trust the first value of the
   * `X-Forwarded-Proto` request header to say whether the request came over HTTPS. Set it only
   * behind a proxy that sets that header on every request, since a client can send it too.
   * Express, Koa and Fastify ignore it and follow their own proxy setting (`trust proxy`,
   * `app.proxy`, `trustProxy`). @default false
   */
  trustProxy?: boolean
  /** The clock in ms since the epoch; tests inject one. @default Date.now */
  clock?: () => number
}

/** Options with defaults applied; what the manager runs on. */
export interface ResolvedOptions {
  store: Store
  lifetime: number
  idleTimeout: number
  /** undefined: derived from each session's idle timeout. */
  idleRefresh: number | undefined
  tokenHeader: string | undefined
  cookie: ResolvedCookieOptions
  codec: Codec
  hashTokenInStore: boolean
  onError: ErrorHandler
  cacheControl: CacheControlMode
  undecodable: UndecodableMode
  endedTokenTtl: number
  owner: string | undefined
  deviceInfo: boolean
  maxBytes: number
  bridge: SessionBridge | undefined
  trustProxy: boolean
  clock: () => number
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const COOKIE_ATTR = /^[\u0021-\u003a\u003c-\u007e]*$/
const DOMAIN =
  /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/
const TOP_KEYS = new Set<string>([
  'store',
  'lifetime',
  'idleTimeout',
  'idleRefresh',
  'tokenHeader',
  'cookie',
  'codec',
  'hashTokenInStore',
  'onError',
  'cacheControl',
  'undecodable',
  'endedTokenTtl',
  'owner',
  'deviceInfo',
  'maxBytes',
  'bridge',
  'trustProxy',
  'clock',
])
const COOKIE_KEYS = new Set<string>([
  'name',
  'domain',
  'path',
  'httpOnly',
  'secure',
  'sameSite',
  'partitioned',
  'persist',
])

function invalid(option: string, message: string): never {
  throw new SessionError('ERR_OPTIONS', `SessionManager: option ${option} ${message}`)
}

function checkKeys(given: object, allowed: Set<string>, where: string): void {
  for (const key of Object.keys(given)) {
    if (allowed.has(key)) continue
    const near = nearest(key, [...allowed])
    invalid(
      `${where}${key}`,
      `is not a known option (${near === undefined ? 'check its spelling' : `did you mean ${where}${near}?`})`,
    )
  }
}

function duration(value: unknown, option: string, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    invalid(
      option,
      `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`,
    )
  }
  return value
}

// What a wrong option value is, for a message: its type, and a string's text.
function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'function') return 'a function (a class? pass an instance)'
  return value === null ? 'null' : `a ${typeof value}`
}

// A string as the single-quoted literal a user would write.
function quoted(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`
}

function byteCount(value: unknown): number {
  if (value === undefined) return 65_536
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid('maxBytes', `must be a non-negative integer number of bytes, got ${String(value)}`)
  }
  return value
}

function flag(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') invalid(option, `must be true or false, got ${String(value)}`)
  return value
}

function oneOf<T extends string>(
  value: unknown,
  option: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    invalid(
      option,
      `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`,
    )
  }
  return value as T
}

function resolveCookie(cookie: CookieOptions = {}): ResolvedCookieOptions {
  if (typeof cookie !== 'object' || cookie === null) invalid('cookie', 'must be an object')
  checkKeys(cookie, COOKIE_KEYS, 'cookie.')
  const name = cookie.name ?? 'session'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    invalid(
      'cookie.name',
      `must be a non-empty RFC 6265 token (letters, digits, !#$%&'*+-.^_\`|~), got ${JSON.stringify(name)}`,
    )
  }
  const path = cookie.path ?? '/'
  if (typeof path !== 'string' || !COOKIE_ATTR.test(path)) {
    invalid('cookie.path', `must be printable ASCII without ';', got ${JSON.stringify(path)}`)
  }
  const domain = cookie.domain === '' ? undefined : cookie.domain
  if (domain !== undefined && (typeof domain !== 'string' || !DOMAIN.test(domain))) {
    invalid(
      'cookie.domain',
      `must be a host name such as example.com, got ${JSON.stringify(domain)}`,
    )
  }
  const sameSite = cookie.sameSite ?? 'lax'
  if (sameSite !== false && sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    invalid('cookie.sameSite', `must be 'lax', 'strict', 'none' or false, got ${String(sameSite)}`)
  }
  const secure = cookie.secure ?? false
  if (typeof secure !== 'boolean' && secure !== 'auto') {
    invalid('cookie.secure', `must be true, false or 'auto', got ${String(secure)}`)
  }
  // 'auto' leaves Secure off on plain http, where browsers would drop a cookie these rules cover,
  // so each of them needs Secure always.
  const auto = secure === 'auto' ? ` ('auto' leaves it off on plain http)` : ''
  const partitioned = flag(cookie.partitioned, 'cookie.partitioned', false)
  if (sameSite === 'none' && secure !== true) {
    invalid(
      'cookie.sameSite',
      `'none' needs cookie.secure: true${auto}; browsers reject SameSite=None cookies without Secure`,
    )
  }
  // Browsers honour these prefixes case-insensitively and refuse a cookie that breaks their rules.
  const lower = name.toLowerCase()
  if (lower.startsWith('__host-') && (secure !== true || path !== '/' || domain !== undefined)) {
    invalid(
      'cookie.name',
      `"${name}" uses the __Host- prefix, which needs cookie.secure: true${auto}, cookie.path: '/' and no cookie.domain; browsers reject it otherwise`,
    )
  }
  if (lower.startsWith('__secure-') && secure !== true) {
    invalid(
      'cookie.name',
      `"${name}" uses the __Secure- prefix, which needs cookie.secure: true${auto}; browsers reject it otherwise`,
    )
  }
  if (partitioned && secure !== true) {
    invalid(
      'cookie.partitioned',
      `needs cookie.secure: true${auto}; browsers reject Partitioned cookies without Secure`,
    )
  }
  return {
    name,
    path,
    domain,
    httpOnly: flag(cookie.httpOnly, 'cookie.httpOnly', true),
    secure,
    sameSite,
    partitioned,
    persist: flag(cookie.persist, 'cookie.persist', true),
  }
}

/** SCS's default ErrorFunc: log, then a plain-text 500 with only the headers http.Error sends. */
export const defaultErrorHandler: ErrorHandler = (err, _req, res) => {
  console.error('sessionkit:', err)
  if (res.headersSent) {
    res.destroy(err)
    return
  }
  for (const name of res.getHeaderNames()) if (name !== 'vary') res.removeHeader(name)
  res.statusCode = 500
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.end('Internal Server Error\n')
}

/** Applies SCS's defaults (`scs.New()`) and validates every option, naming the one at fault. */
export function resolveOptions<Data extends object>(
  options: SessionManagerOptions<Data> = {},
): ResolvedOptions {
  if (typeof options !== 'object' || options === null) invalid('(options)', 'must be an object')
  checkKeys(options, TOP_KEYS, '')
  const store = options.store
  if (store !== undefined && (typeof store !== 'object' || store === null)) {
    // The common slip is a file name where the store belongs; say how to open one.
    invalid(
      'store',
      `must be a store object, not ${describe(store)}: for a SQLite file use store: openSQLiteStore(${quoted(typeof store === 'string' ? store : 'sessions.db')}) from 'sessionkit/sqlite'`,
    )
  }
  if (store !== undefined) {
    for (const method of ['find', 'commit', 'delete'] as const) {
      if (typeof store?.[method] !== 'function') invalid('store', `must implement ${method}()`)
    }
  }
  const codec = options.codec ?? jsonCodec
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') {
    invalid('codec', 'must have encode() and decode()')
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    invalid('onError', 'must be a function (err, req, res)')
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    invalid('clock', 'must be a function returning ms since the epoch')
  }
  const cookie = resolveCookie(options.cookie)
  const clock = options.clock ?? Date.now
  const owner = options.owner
  if (owner !== undefined && (typeof owner !== 'string' || owner === '')) {
    invalid('owner', `must be the name of a data key, got ${JSON.stringify(owner)}`)
  }
  if (owner !== undefined && store !== undefined && !isOwnerIndexStore(store)) {
    const missing = storeCapabilities.ownerIndex.find(
      (method) => typeof (store as unknown as Record<string, unknown>)[method] !== 'function',
    )
    invalid(
      'owner',
      `needs a store with an owner index; ${store.constructor.name} has no ${missing}()`,
    )
  }
  const deviceInfo = flag(options.deviceInfo, 'deviceInfo', false)
  if (deviceInfo && owner === undefined) invalid('deviceInfo', 'needs the owner option')
  // A deadline past year 9999 fits neither a cookie's Expires nor SQLite's julianday().
  const latest = MAX_DEADLINE - clock()
  const lifetime = duration(options.lifetime, 'lifetime', 24 * 60 * 60 * 1000, false)
  if (lifetime > latest) {
    invalid(
      'lifetime',
      `must end by ${new Date(MAX_DEADLINE).toISOString()} (at most ${latest} ms from now), got ${lifetime}`,
    )
  }
  const idleTimeout = duration(options.idleTimeout, 'idleTimeout', 0, true)
  if (idleTimeout > latest) {
    invalid(
      'idleTimeout',
      `must end by ${new Date(MAX_DEADLINE).toISOString()} (at most ${latest} ms from now), got ${idleTimeout}`,
    )
  }
  const idleRefresh =
    options.idleRefresh === undefined
      ? undefined
      : duration(options.idleRefresh, 'idleRefresh', 0, true)
  const tokenHeader = options.tokenHeader
  if (
    tokenHeader !== undefined &&
    (typeof tokenHeader !== 'string' ||
      !COOKIE_NAME.test(tokenHeader) ||
      /^cookie$/i.test(tokenHeader))
  ) {
    invalid(
      'tokenHeader',
      `must be an HTTP header name other than Cookie, got ${JSON.stringify(tokenHeader)}`,
    )
  }
  const bridge = options.bridge
  if (
    bridge !== undefined &&
    (typeof bridge?.idOf !== 'function' ||
      typeof bridge.read !== 'function' ||
      typeof bridge.destroy !== 'function')
  ) {
    invalid(
      'bridge',
      'must be a SessionBridge (idOf, read, destroy), such as expressSessionBridge()',
    )
  }
  if (bridge !== undefined && tokenHeader !== undefined) {
    invalid('bridge', 'moves cookie sessions, so it cannot be used with tokenHeader')
  }
  const trustProxy = flag(options.trustProxy, 'trustProxy', false)
  if (trustProxy && cookie.secure !== 'auto') {
    invalid('trustProxy', `serves cookie.secure: 'auto' only; set that too, or drop trustProxy`)
  }
  return {
    lifetime,
    idleTimeout,
    idleRefresh,
    tokenHeader,
    cookie,
    codec,
    hashTokenInStore: flag(options.hashTokenInStore, 'hashTokenInStore', false),
    onError: options.onError ?? defaultErrorHandler,
    cacheControl: oneOf(options.cacheControl, 'cacheControl', ['no-cache', 'no-store'], 'no-cache'),
    undecodable: oneOf(options.undecodable, 'undecodable', ['error', 'new-session'], 'error'),
    endedTokenTtl: duration(options.endedTokenTtl, 'endedTokenTtl', 60_000, true),
    owner,
    deviceInfo,
    maxBytes: byteCount(options.maxBytes),
    bridge,
    trustProxy,
    clock,
    // Built last so a bad option never leaves a default store's timer behind.
    store: store ?? new MemoryStore({ clock: options.clock ?? Date.now }),
  }
}
