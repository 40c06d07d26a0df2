import { decodeRecord } from './codec.js'
import { SessionError } from './errors.js'
import type { SessionEvents, SessionListener } from './events.js'
import { Listeners } from './events.js'
import type { CommitResult } from './manager/commit.js'
import { Committer } from './manager/commit.js'
import { StoreGateway } from './manager/gateway.js'
import { IdleRefresh } from './manager/idle-refresh.js'
import type { IterateResult } from './manager/load.js'
import { Loader } from './manager/load.js'
import { OwnerIndex } from './manager/owner-index.js'
import { Responder } from './manager/respond.js'
import { TokenTransport } from './manager/transport.js'
import type { ErrorHandler, ResolvedOptions, SessionManagerOptions } from './options.js'
import { resolveOptions } from './options.js'
import type { Owner, SessionInfo } from './owners.js'
import type { HeaderSink } from './response-headers.js'
import { writeSessionHeaders } from './response-headers.js'
import type { SessionData, SessionHost } from './session.js'
import { kState, type Session } from './session.js'
import type { DeviceInfo, Store } from './store.js'
import { hashToken } from './token.js'

export type { CommitResult } from './manager/commit.js'
export type { IterateResult } from './manager/load.js'

/**
 * Configuration plus the session lifecycle (SCS `SessionManager`): load a session for a token,
 * commit it, and build its cookies. Safe to share across requests; it holds no per-request state.
 *
 * @example
 * const sessions = new SessionManager<{ userId: number }>({ lifetime: 24 * 60 * 60 * 1000 })
 */
export class SessionManager<Data extends object = SessionData> {
  readonly #options: ResolvedOptions
  readonly #gateway: StoreGateway
  readonly #transport: TokenTransport
  readonly #idle: IdleRefresh
  readonly #loader: Loader<Data>
  readonly #committer: Committer<Data>
  readonly #owners: OwnerIndex<Data>
  readonly #responder: Responder<Data>
  readonly #listeners = new Listeners<Data>()
  // A symbol property, not a WeakMap: short-lived WeakMap keys cost the garbage collector more
  // per request than the property store, even on Express's prototype-swapped requests.
  readonly #slot = Symbol('sessionkit.session')
  #watchingExpiry = false

  constructor(options: SessionManagerOptions<NoInfer<Data>> = {}) {
    const resolved = resolveOptions(options)
    this.#options = resolved
    const gateway = new StoreGateway(resolved.store)
    this.#gateway = gateway
    this.#transport = new TokenTransport(resolved)
    this.#idle = new IdleRefresh(resolved, gateway.touches)
    this.#owners = new OwnerIndex(gateway, this.#listeners, resolved.owner, resolved.clock)
    const keyFor = resolved.hashTokenInStore ? hashToken : (token: string) => token
    const committer = new Committer(
      resolved,
      gateway,
      this.#idle,
      this.#owners,
      this.#listeners,
      keyFor,
    )
    this.#committer = committer
    const host: SessionHost = {
      find: (key) => gateway.find(key),
      decode: (data) => decodeRecord(resolved.codec, data),
      lifetime: resolved.lifetime,
      clock: resolved.clock,
      keyFor,
      end: (key, reason, fallback) => committer.end(key, reason, fallback),
      reasonGone: (key) => committer.reasonGone(key),
      merge: (state, latest) => committer.mergeInto(state, latest),
      destroyed: (session) =>
        this.#listeners.emit('destroyed', { session: session as Session<Data> }),
    }
    this.#responder = new Responder(committer, this.#idle, this.#transport)
    this.#loader = new Loader(resolved, gateway, host, this.#idle, this.#owners, this.#transport)
    this.requestHeader = this.#transport.requestHeader
    this.responseHeader = this.#transport.responseHeader
    this.varyHeader = this.#transport.varyHeader
  }

  /** The store sessions live in. */
  get store(): Store {
    return this.#gateway.store
  }

  /** The session cookie's name. */
  get cookieName(): string {
    return this.#transport.cookies.name
  }

  /** The Cache-Control value sent with every Set-Cookie (`no-store` with a token header). */
  get cacheControl(): string {
    return this.#transport.cacheControl
  }

  /** The request header adapters pass to `loadCookieHeader`, lower-cased: `cookie`, or the `tokenHeader`. */
  readonly requestHeader: string

  /** The response header `commitResponse`'s value goes in: `Set-Cookie`, or the `tokenHeader`. */
  readonly responseHeader: string

  /** The request header every response's Vary names: `Cookie`, or the `tokenHeader`. */
  readonly varyHeader: string

  /** The error handler node:http and Express responses use. */
  get onError(): ErrorHandler {
    return this.#options.onError
  }

  /**
   * Loads the session for `token` (SCS Load). A token that is not 43 base64url characters, an
   * unknown or expired one, or one whose stored deadline has passed gives a fresh session with
   * token ''. Rejects with `ERR_STORE` when the store fails and `ERR_CODEC` when the data cannot be
   * decoded (unless `undecodable: 'new-session'`).
   */
  load(token: string | undefined): Promise<Session<Data>> {
    return this.#loader.load(token)
  }

  /**
   * Loads the session named by a request's Cookie header: synchronous, with no store call, when
   * the header holds no well-formed session token.
   */
  loadCookieHeader(header: string | undefined): Session<Data> | Promise<Session<Data>> {
    return this.#loader.loadHeader(header)
  }

  /**
   * The Set-Cookie values an adapter sends besides the session's own, after `commitResponse`:
   * the bridge's deletion of the old library's cookie, once the move is committed; else none.
   */
  extraCookies(session: Session<Data>): readonly string[] {
    return session[kState].extraCookies
  }

  /**
   * Writes the session to the store (SCS Commit), creating its token if it has none. The expiry is
   * min(deadline, now + idleTimeout). A session loaded from the store is written by applying this
   * request's own changes to the latest stored state, atomically (the store's compare-and-set), so
   * overlapping requests keep each other's keys; it is written only while its row exists, and a
   * new session only where its key is free. `committed: false` means the session ended elsewhere
   * (`session.refused` says why) and nothing was written. A session whose encoded bytes equal the
   * stored ones is not rewritten: without an idle timeout nothing is written, and with one only
   * its expiry moves when the store can touch.
   */
  commit(session: Session<Data>): Promise<CommitResult> {
    return this.#committer.commit(session)
  }

  /**
   * The commit step of a response, for adapters: seals the session against later changes and
   * returns the value to send in {@link responseHeader} (a Set-Cookie, or with `tokenHeader` the
   * token, `''` once destroyed), or undefined for none. Synchronous unless a store write
   * is needed.
   */
  commitResponse(session: Session<Data>): string | undefined | Promise<string | undefined> {
    return this.#responder.respond(session)
  }

  /**
   * The one response-header step, for adapters: writes `Vary`, and with the commit step's `value`
   * its Set-Cookie (or token header), the session's extra cookies and Cache-Control, to `target`
   * through `sink` (the adapter's view of its framework's response headers).
   */
  writeHeaders<Target>(
    sink: HeaderSink<Target>,
    target: Target,
    session: Session<Data>,
    value: string | undefined,
  ): void {
    writeSessionHeaders(sink, target, this.#transport, value, session[kState].extraCookies)
  }

  /**
   * The Set-Cookie value for a live session (SCS WriteSessionCookie): Expires and Max-Age only when
   * `persist` (by default `cookie.persist`). With `cookie.secure: 'auto'`, `secure` says whether
   * the request came over HTTPS.
   */
  sessionCookie(
    token: string,
    expiry: Date,
    persist = this.#options.cookie.persist,
    secure = false,
  ): string {
    const now = this.#options.clock()
    return this.#transport.cookies.live(token, expiry.getTime(), now, persist, secure)
  }

  /** The Set-Cookie value that deletes the session cookie; `secure` as for {@link sessionCookie}. */
  expiredCookie(secure = false): string {
    return this.#transport.cookies.expired(secure)
  }

  /**
   * Calls `fn` with every live session in the store, one at a time (SCS Iterate); changes are not
   * committed unless `fn` calls `commit` or `destroy`. Works with `hashTokenInStore` (each session's
   * token is then its store key). A row the codec cannot read (another program wrote it) is
   * skipped, never deleted, and listed in the result, so one bad row cannot stop a sign-out
   * everywhere halfway. Rejects with `ERR_NOT_ITERABLE` when the store has no `all()`.
   */
  iterate(fn: (session: Session<Data>) => void | Promise<void>): Promise<IterateResult> {
    return this.#loader.iterate(fn)
  }

  /**
   * Subscribes `listener` to a lifecycle event (see {@link SessionEvents}) and returns the
   * function that unsubscribes it. Listeners run synchronously; one that throws is logged and
   * never breaks the request.
   *
   * @example
   * sessions.on('refused', ({ reason }) => console.warn('session change dropped:', reason))
   */
  on<E extends keyof SessionEvents<Data>>(
    event: E,
    listener: SessionListener<Data, E>,
  ): () => void {
    // The store's cleanup counts reach the manager only once someone listens for them.
    if (event === 'expired' && !this.#watchingExpiry) {
      this.#watchingExpiry = true
      this.#gateway.onExpired((count) => this.#listeners.emit('expired', { count }))
    }
    return this.#listeners.on(event, listener)
  }

  /** The session an adapter attached to `target` (a request or context); throws `ERR_NO_SESSION` if none. */
  from(target: object): Session<Data> {
    const session = (target as Record<symbol, Session<Data> | undefined>)[this.#slot]
    if (session === undefined) {
      throw new SessionError(
        'ERR_NO_SESSION',
        `no session on this request for cookie "${this.cookieName}": is loadAndSave(manager) installed in front of this handler?`,
      )
    }
    return session
  }

  /** The attached session, or undefined; adapters use it to make a second loadAndSave a no-op. */
  peek(target: object): Session<Data> | undefined {
    return (target as Record<symbol, Session<Data> | undefined>)[this.#slot]
  }

  /**
   * Attaches `session` to `target` so `from(target)` finds it; for adapters, which pass the
   * request's device when {@link recordsDevices} is true, and whether it came over HTTPS when
   * {@link securesByRequest} is true.
   */
  attach(target: object, session: Session<Data>, device?: DeviceInfo, secure?: boolean): void {
    ;(target as Record<symbol, Session<Data>>)[this.#slot] = session
    if (device !== undefined) session[kState].device = device
    if (secure === true) session[kState].secure = true
  }

  /** True when adapters should pass the request's User-Agent and IP to `attach` (`deviceInfo`). */
  get recordsDevices(): boolean {
    return this.#options.deviceInfo
  }

  /**
   * True with `cookie.secure: 'auto'`: adapters then tell `attach` whether the request came over
   * HTTPS, and only then work it out.
   */
  get securesByRequest(): boolean {
    return this.#transport.securesByRequest
  }

  /**
   * Whether a request came over HTTPS, for adapters with no proxy setting of their framework's
   * (node:http, Fetch, Hono): `https` (the connection's or the URL's own protocol), unless
   * `trustProxy` is on and `forwardedProto` (the X-Forwarded-Proto header) is present, whose
   * first value then decides.
   */
  cameOverHttps(https: boolean, forwardedProto: string | null | undefined): boolean {
    return this.#transport.cameOverHttps(https, forwardedProto)
  }

  /**
   * Every live session of `owner` (the value under the `owner` data key), from the store's owner
   * index in O(sessions of that owner); `current` marks the caller's own. Rejects with
   * `ERR_OPTIONS` without the `owner` option.
   *
   * @example
   * const devices = await sessions.listOwned(userId, { current: sessions.from(req) })
   */
  listOwned(owner: Owner, options: { current?: Session<Data> } = {}): Promise<SessionInfo[]> {
    return this.#owners.list(owner, keyOf(options.current))
  }

  /**
   * Signs `owner` out everywhere (but `except`, e.g. the current session): ends each of the
   * owner's sessions, so their next request gets a fresh session (and can sign in again) and
   * requests already in flight are refused. Resolves how many it ended.
   */
  revokeOwned(owner: Owner, options: { except?: Session<Data> } = {}): Promise<number> {
    return this.#owners.revokeAll(owner, keyOf(options.except))
  }

  /** Signs out one of `owner`'s sessions by its `SessionInfo.id`; resolves false for an unknown id. */
  revoke(owner: Owner, id: string): Promise<boolean> {
    return this.#owners.revoke(owner, id)
  }
}

// The store key of a session the caller holds, when it has one.
function keyOf(session: Session<object> | undefined): string | undefined {
  const state = session?.[kState]
  return state === undefined || state.token === '' ? undefined : state.key
}
