import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SessionBridge } from './bridge.js'
import type { Codec } from './codec.js'
import { jsonCodec } from './codec.js'
import type { CookieOptions, ResolvedCookieOptions } from './cookie.js'
import { COOKIE_NAME, resolveCookie } from './cookie-options.js'
import { MAX_DEADLINE } from './deadline.js'
import { MemoryStore } from './memory-store.js'
import {
  byteCount,
  checkKeys,
  describe,
  duration,
  flag,
  invalid,
  oneOf,
  quoted,
} from './option-checks.js'
import type { SessionData, SessionKey } from './session.js'
import type { Store } from './store.js'
import { capabilitiesOf, isOwnerIndexStore, storeCapabilities } from './store.js'

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

const TOP_KEYS: readonly string[] = [
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
]

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
    const started = capabilitiesOf(store).partial.find((p) => p.capability === 'ownerIndex')
    const missing = started?.missing[0] ?? storeCapabilities.ownerIndex[0]
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
