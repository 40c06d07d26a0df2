import { BridgeRunner } from './bridge.js'
import { sameBytes } from './bytes.js'
import type { Codec, SessionRecord } from './codec.js'
import { CookieWriter, readCookie } from './cookie.js'
import { SessionError, StoreError, toStoreError } from './errors.js'
import type { SessionEvents, SessionListener } from './events.js'
import { Listeners } from './events.js'
import { mergeRecords } from './merge.js'
import type { ErrorHandler, ResolvedOptions, SessionManagerOptions } from './options.js'
import { resolveOptions } from './options.js'
import type { Owner, SessionInfo } from './owners.js'
import { handleOf, ownerOf, SeenThrottle, toSessionInfo } from './owners.js'
import type { RefusedReason, SessionData, SessionHost, SessionState } from './session.js'
import { blankState, idleTimeoutOf, kState, REMEMBER_ME_KEY, Session } from './session.js'
import type { DeviceInfo, EndReason, OwnedSession, Store } from './store.js'
import { isIterableStore } from './store.js'
import { generateToken, hashToken, isValidToken } from './token.js'

/** What `SessionManager#commit` did: the raw token, the expiry it wrote, and whether the store took it. */
export interface CommitResult {
  token: string
  expiry: Date
  /** False when the store refused the write because the session was destroyed or renewed meanwhile. */
  committed: boolean
}

/** What `SessionManager#iterate` did: how many sessions `fn` saw, and the rows it skipped as undecodable. */
export interface IterateResult {
  visited: number
  /** Each row the codec could not read: its store key and the `ERR_CODEC` error. */
  undecodable: { key: string; error: SessionError }[]
}

// What a plain delete (a store without `end`) reports it removed: something, bytes unknown.
const DELETED = new Uint8Array(0)

// Each failed compare-and-set means another request's write landed, so the loop always makes
// progress; the bound only stops a pathological hot session from holding a request forever.
const MAX_MERGE_ATTEMPTS = 32

/**
 * Configuration plus the session lifecycle (SCS `SessionManager`): load a session for a token,
 * commit it, and build its cookies. Safe to share across requests; it holds no per-request state.
 *
 * @example
 * const sessions = new SessionManager<{ userId: number }>({ lifetime: 24 * 60 * 60 * 1000 })
 */
export class SessionManager<Data extends object = SessionData> {
  readonly #options: ResolvedOptions
  readonly #host: SessionHost
  readonly #cookies: CookieWriter
  // A symbol property, not a WeakMap: short-lived WeakMap keys cost the garbage collector more
  // per request than the property store, even on Express's prototype-swapped requests.
  readonly #slot = Symbol('sessionkit.session')
  readonly #cacheControl: string
  readonly #listeners = new Listeners<Data>()
  readonly #seen = new SeenThrottle()
  #watchingExpiry = false
  readonly #refreshed = new Map<string, number>()
  readonly #tokenHeader: string | undefined
  readonly #bearer: boolean
  readonly #bridge: BridgeRunner | undefined

  constructor(options: SessionManagerOptions<NoInfer<Data>> = {}) {
    const resolved = resolveOptions(options)
    this.#options = resolved
    const hash = resolved.hashTokenInStore
    this.#host = {
      store: resolved.store,
      decode: (data) => decode(resolved.codec, data),
      lifetime: resolved.lifetime,
      clock: resolved.clock,
      keyFor: hash ? hashToken : (token) => token,
      end: (key, reason, fallback) => this.#end(key, reason, fallback),
      reasonGone: (key) => this.#reasonGone(key),
      merge: (state, latest) => this.#mergeInto(state, latest),
      destroyed: (session) =>
        this.#listeners.emit('destroyed', { session: session as Session<Data> }),
    }
    this.#cookies = new CookieWriter(resolved.cookie)
    // A token in a response header must never be cached; a cookie follows SCS's rule.
    this.#cacheControl =
      resolved.cacheControl === 'no-store' || resolved.tokenHeader !== undefined
        ? 'no-store'
        : 'no-cache="Set-Cookie"'
    this.#tokenHeader = resolved.tokenHeader
    this.#bearer = resolved.tokenHeader?.toLowerCase() === 'authorization'
    this.#bridge = resolved.bridge === undefined ? undefined : new BridgeRunner(resolved.bridge)
    this.requestHeader = resolved.tokenHeader?.toLowerCase() ?? 'cookie'
    this.responseHeader = resolved.tokenHeader ?? 'Set-Cookie'
    this.varyHeader = resolved.tokenHeader ?? 'Cookie'
  }

  /** The store sessions live in. */
  get store(): Store {
    return this.#options.store
  }

  /** The session cookie's name. */
  get cookieName(): string {
    return this.#cookies.name
  }

  /** The Cache-Control value sent with every Set-Cookie (`no-store` with a token header). */
  get cacheControl(): string {
    return this.#cacheControl
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
  async load(token: string | undefined): Promise<Session<Data>> {
    if (!isValidToken(token)) return this.#fresh()
    const key = this.#host.keyFor(token)
    let data: Uint8Array | undefined
    try {
      data = await this.#options.store.find(key)
    } catch (err) {
      throw toStoreError(err, 'find')
    }
    if (data === undefined) {
      const { store, endedTokenTtl } = this.#options
      if (endedTokenTtl === 0 || store.ended === undefined) return this.#fresh()
      // Renewed or destroyed moments ago: an in-flight request must not start a new session
      // whose cookie would replace the sign-in's, or undo the logout, in the browser.
      let reason: EndReason | undefined
      try {
        reason = await store.ended(key)
      } catch (err) {
        throw toStoreError(err, 'ended')
      }
      return reason === undefined ? this.#fresh() : this.#refusedSession(reason)
    }
    let record: SessionRecord
    try {
      record = decode(this.#options.codec, data)
    } catch (err) {
      if (this.#options.undecodable === 'new-session') return this.#fresh()
      throw err
    }
    const deadline = record.deadline.getTime()
    if (!(deadline >= this.#options.clock())) return this.#fresh()
    const state = blankState(deadline)
    state.token = token
    state.key = key
    state.values = record.values instanceof Map ? record.values : new Map()
    // SCS: with an idle timeout every request re-commits, so a load is already a modification.
    if (idleTimeoutOf(state.values, this.#options.idleTimeout) > 0) state.status = 'modified'
    state.stored = true
    state.saved = data
    const ownerKey = this.#options.owner
    if (ownerKey !== undefined) {
      state.indexed = ownerOf(state.values.get(ownerKey))
      if (state.indexed !== undefined) this.#markSeen(key, state.indexed)
    }
    return new Session<Data>(this.#host, state)
  }

  /**
   * Loads the session named by a request's Cookie header: synchronous, with no store call, when
   * the header holds no well-formed session token.
   */
  loadCookieHeader(header: string | undefined): Session<Data> | Promise<Session<Data>> {
    const token =
      this.#tokenHeader === undefined
        ? readCookie(header, this.#cookies.name)
        : this.#headerToken(header)
    if (token !== '') return this.load(token)
    // Only a request with a verified cookie of the old library costs more than a fresh session.
    const oldId = this.#bridge?.idOf(header)
    if (this.#bridge === undefined || oldId === undefined) return this.#fresh()
    return this.#bridge
      .load(
        oldId,
        () => this.#fresh(),
        (moved) => this.load(moved),
        (session, bridged) => {
          session[kState].bridged = bridged
        },
      )
      .then((session) => session ?? this.#fresh())
  }

  /**
   * The Set-Cookie values an adapter sends besides the session's own, after `commitResponse`:
   * the bridge's deletion of the old library's cookie, once the move is committed; else none.
   */
  extraCookies(session: Session<Data>): readonly string[] {
    return session[kState].extraCookies
  }

  // The token header's value: the token itself, or `Bearer <token>` for Authorization.
  #headerToken(header: string | undefined): string {
    if (header === undefined) return ''
    const value = header.trim()
    if (!this.#bearer) return value
    return /^bearer\s+/i.test(value) ? value.replace(/^bearer\s+/i, '') : ''
  }

  /**
   * Writes the session to the store (SCS Commit), creating its token if it has none. The expiry is
   * min(deadline, now + idleTimeout). A session loaded from the store is written by applying this
   * request's own changes to the latest stored state, atomically (the store's `replace`), so
   * overlapping requests keep each other's keys; it is written only while its row exists, and a
   * new session only where its key is free. `committed: false` means the session ended elsewhere
   * (`session.refused` says why) and nothing was written. A session whose encoded bytes equal the
   * stored ones is not rewritten: without an idle timeout nothing is written, and with one only
   * its expiry moves when the store has `touch`.
   */
  async commit(session: Session<Data>): Promise<CommitResult> {
    const state = session[kState]
    if (state.refused !== undefined)
      return this.#refuse(session, state.refused, state.status !== 'unmodified')
    if (state.token === '') {
      state.token = generateToken()
      state.key = ''
      state.stored = false
    }
    if (state.key === '') state.key = this.#host.keyFor(state.token)
    let data: Uint8Array | undefined
    if (state.dirty) {
      data = this.#encode(state)
      // A put of the value already stored (the seed's /put) changes nothing in the row.
      if (state.stored && state.saved !== undefined && sameBytes(data, state.saved)) {
        state.dirty = false
      }
    }
    const changed = state.dirty
    let expiry = this.#expiryOf(state.deadline, state.values)
    let committed: boolean
    if (!state.dirty && state.stored && this.#canRefresh(state)) {
      committed = await this.#refresh(state, state.key, expiry)
    } else if (state.stored && state.saved !== undefined && this.#options.store.replace) {
      data ??= this.#encode(state)
      committed = await this.#merge(state, data)
      expiry = this.#expiryOf(state.deadline, state.values)
    } else {
      data ??= this.#encode(state)
      try {
        committed = await this.#options.store.commit(
          state.key,
          data,
          new Date(expiry),
          state.stored ? 'update' : 'insert',
        )
      } catch (err) {
        throw toStoreError(err, 'commit')
      }
      if (committed) state.saved = data
    }
    if (!committed && state.stored) {
      const reason = await this.#reasonGone(state.key)
      Object.assign(state, blankState(state.deadline), { refused: reason, sealed: state.sealed })
      return this.#refuse(session, reason, changed)
    }
    const inserted = committed && !state.stored
    state.stored = committed
    if (inserted) {
      this.#listeners.emit(state.renewed ? 'renewed' : 'created', { session })
      state.renewed = false
    }
    if (committed) {
      state.dirty = false
      if (this.#options.owner !== undefined) await this.#index(state)
    }
    return { token: state.token, expiry: new Date(expiry), committed }
  }

  /**
   * The commit step of a response, for adapters: seals the session against later changes and
   * returns the value to send in {@link responseHeader} (a Set-Cookie, or with `tokenHeader` the
   * token, `''` once destroyed), or undefined for none. Synchronous unless a store write
   * is needed.
   */
  commitResponse(session: Session<Data>): string | undefined | Promise<string | undefined> {
    const state = session[kState]
    state.sealed = true
    if (state.status === 'unmodified') return undefined
    if (state.refused !== undefined) {
      // No cookie at all, not even a deletion: it would log out a browser that signed in anew.
      this.#refuse(session, state.refused, true)
      return undefined
    }
    if (state.status === 'destroyed') {
      // Signed out on the very request that moved it: the old session must go too, or the next
      // request would move it over again and undo the logout.
      const expired = this.#cookies.expired(state.secure)
      if (state.bridged !== undefined) return this.#finishBridged(state, expired)
      return this.#tokenHeader === undefined ? expired : ''
    }
    // Nothing changed (or a put left the bytes as stored, the seed's /put) and the expiry moved
    // recently: neither a touch nor a cookie is worth it.
    if (state.stored && this.#refreshedRecently(state) && !this.#changedSinceSaved(state)) {
      state.dirty = false
      return undefined
    }
    return this.#commitAndCookie(session)
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
    return this.#cookies.live(token, expiry.getTime(), this.#options.clock(), persist, secure)
  }

  /** The Set-Cookie value that deletes the session cookie; `secure` as for {@link sessionCookie}. */
  expiredCookie(secure = false): string {
    return this.#cookies.expired(secure)
  }

  /**
   * Calls `fn` with every live session in the store, one at a time (SCS Iterate); changes are not
   * committed unless `fn` calls `commit` or `destroy`. Works with `hashTokenInStore` (each session's
   * token is then its store key). A row the codec cannot read (another program wrote it) is
   * skipped, never deleted, and listed in the result, so one bad row cannot stop a sign-out
   * everywhere halfway. Rejects with `ERR_NOT_ITERABLE` when the store has no `all()`.
   */
  async iterate(fn: (session: Session<Data>) => void | Promise<void>): Promise<IterateResult> {
    const store = this.#options.store
    if (!isIterableStore(store)) {
      throw new SessionError(
        'ERR_NOT_ITERABLE',
        `${store.constructor.name} does not support iteration: it has no all() method`,
      )
    }
    let all: Map<string, Uint8Array>
    try {
      all = await store.all()
    } catch (err) {
      throw toStoreError(err, 'all')
    }
    const result: IterateResult = { visited: 0, undecodable: [] }
    for (const [key, data] of all) {
      let record: SessionRecord
      try {
        record = decode(this.#options.codec, data)
      } catch (err) {
        result.undecodable.push({ key, error: err as SessionError })
        continue
      }
      const state = blankState(record.deadline.getTime())
      state.token = key
      state.key = key
      state.values = record.values
      state.stored = true
      state.saved = data
      await fn(new Session<Data>(this.#host, state))
      result.visited++
    }
    return result
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
      this.#options.store.onExpired?.((count) => this.#listeners.emit('expired', { count }))
    }
    return this.#listeners.on(event, listener)
  }

  /** The session an adapter attached to `target` (a request or context); throws `ERR_NO_SESSION` if none. */
  from(target: object): Session<Data> {
    const session = (target as Record<symbol, Session<Data> | undefined>)[this.#slot]
    if (session === undefined) {
      throw new SessionError(
        'ERR_NO_SESSION',
        `no session on this request for cookie "${this.#cookies.name}": is loadAndSave(manager) installed in front of this handler?`,
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
    return this.#options.cookie.secure === 'auto'
  }

  /**
   * Whether a request came over HTTPS, for adapters with no proxy setting of their framework's
   * (node:http, Fetch, Hono): `https` (the connection's or the URL's own protocol), unless
   * `trustProxy` is on and `forwardedProto` (the X-Forwarded-Proto header) is present, whose
   * first value then decides.
   */
  cameOverHttps(https: boolean, forwardedProto: string | null | undefined): boolean {
    if (!this.#options.trustProxy || forwardedProto == null || forwardedProto === '') return https
    const comma = forwardedProto.indexOf(',')
    const first = comma === -1 ? forwardedProto : forwardedProto.slice(0, comma)
    return first.trim().toLowerCase() === 'https'
  }

  /**
   * Every live session of `owner` (the value under the `owner` data key), from the store's owner
   * index in O(sessions of that owner); `current` marks the caller's own. Rejects with
   * `ERR_OPTIONS` without the `owner` option.
   *
   * @example
   * const devices = await sessions.listOwned(userId, { current: sessions.from(req) })
   */
  async listOwned(owner: Owner, options: { current?: Session<Data> } = {}): Promise<SessionInfo[]> {
    const rows = await this.#owned(owner)
    const current = options.current?.[kState]
    const currentKey = current === undefined || current.token === '' ? undefined : current.key
    return rows
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
      .map((row) => toSessionInfo(row, currentKey))
  }

  /**
   * Signs `owner` out everywhere (but `except`, e.g. the current session): ends each of the
   * owner's sessions, so their next request gets a fresh session (and can sign in again) and
   * requests already in flight are refused. Resolves how many it ended.
   */
  async revokeOwned(owner: Owner, options: { except?: Session<Data> } = {}): Promise<number> {
    const except = options.except?.[kState]
    const keep = except === undefined || except.token === '' ? undefined : except.key
    let count = 0
    for (const row of await this.#owned(owner)) {
      if (row.key !== keep && (await this.#revokeKey(owner, row.key))) count++
    }
    return count
  }

  /** Signs out one of `owner`'s sessions by its `SessionInfo.id`; resolves false for an unknown id. */
  async revoke(owner: Owner, id: string): Promise<boolean> {
    const row = (await this.#owned(owner)).find((r) => handleOf(r.key) === id)
    if (row === undefined) return false
    return this.#revokeKey(owner, row.key)
  }

  // Ended, but not remembered as ended: the revoked browser has no new cookie or logout to
  // protect, so its next request gets a fresh session and can sign in again at once. Requests it
  // has in flight are refused all the same, since the row is gone.
  async #revokeKey(owner: Owner, key: string): Promise<boolean> {
    // A store without `end` deletes blindly: the key counts as revoked.
    const ended = (await this.#end(key, 'destroyed', DELETED, 0)) !== undefined
    if (ended) this.#listeners.emit('revoked', { owner: String(owner), id: handleOf(key) })
    return ended
  }

  #fresh(): Session<Data> {
    return new Session<Data>(this.#host, blankState(this.#options.clock() + this.#options.lifetime))
  }

  #refusedSession(reason: RefusedReason): Session<Data> {
    const state: SessionState = blankState(this.#options.clock() + this.#options.lifetime)
    state.refused = reason
    return new Session<Data>(this.#host, state)
  }

  #refuse(session: Session<Data>, reason: RefusedReason, dropped: boolean): CommitResult {
    const state = session[kState]
    // Reported once: what was dropped is gone, so the session has nothing left to write.
    state.status = 'unmodified'
    if (dropped) this.#listeners.emit('refused', { reason, session })
    return { token: state.token, expiry: new Date(state.deadline), committed: false }
  }

  // Encoded for a write, and refused whole when over maxBytes: nothing of it reaches the store.
  #encode(state: SessionState): Uint8Array {
    const data = encode(this.#options.codec, new Date(state.deadline), state.values)
    const limit = this.#options.maxBytes
    if (limit > 0 && data.byteLength > limit) {
      throw new SessionError(
        'ERR_TOO_LARGE',
        `the session is ${data.byteLength} bytes encoded, over the maxBytes limit of ${limit}; store less in it (large data belongs in your database, keyed by the session's user)`,
      )
    }
    return data
  }

  #expiryOf(deadline: number, values?: ReadonlyMap<string, unknown>): number {
    const { clock } = this.#options
    const idle = idleTimeoutOf(values, this.#options.idleTimeout)
    return idle > 0 ? Math.min(deadline, clock() + idle) : deadline
  }

  // Unchanged data: without an idle timeout the row's expiry is the deadline inside its data, so
  // nothing is written; with one only the expiry moves, where the store can do that alone.
  #canRefresh(state: SessionState): boolean {
    return (
      idleTimeoutOf(state.values, this.#options.idleTimeout) === 0 ||
      this.#options.store.touch !== undefined
    )
  }

  async #refresh(state: SessionState, key: string, expiry: number): Promise<boolean> {
    const store = this.#options.store
    if (idleTimeoutOf(state.values, this.#options.idleTimeout) === 0 || store.touch === undefined) {
      return true
    }
    try {
      return await store.touch(key, new Date(expiry))
    } catch (err) {
      throw toStoreError(err, 'touch')
    }
  }

  // Compare-and-set against the bytes this request last saw; when another request wrote first,
  // this request's own changes are applied to what it wrote, and the write is tried again.
  async #merge(state: SessionState, first: Uint8Array): Promise<boolean> {
    const store = this.#options.store
    const replace = store.replace as NonNullable<Store['replace']>
    let expected = state.saved as Uint8Array
    let data = first
    for (let attempt = 1; ; attempt++) {
      let result: true | Uint8Array | undefined
      try {
        result = await replace.call(
          store,
          state.key,
          expected,
          data,
          new Date(this.#expiryOf(state.deadline, state.values)),
        )
      } catch (err) {
        throw toStoreError(err, 'commit')
      }
      if (result === true) {
        state.saved = data
        return true
      }
      if (result === undefined) return false
      if (attempt === MAX_MERGE_ATTEMPTS) {
        throw new StoreError(
          `session store commit failed: the session changed under ${attempt} attempts to write it; too many requests are writing one session at once`,
        )
      }
      this.#mergeInto(state, result)
      // The next round's base is what won this one, so only this request's changes travel.
      state.saved = result
      expected = result
      data = this.#encode(state)
      if (sameBytes(data, result) && this.#canRefresh(state)) {
        return this.#refresh(state, state.key, this.#expiryOf(state.deadline, state.values))
      }
    }
  }

  async #owned(owner: Owner): Promise<OwnedSession[]> {
    const store = this.#options.store
    if (this.#options.owner === undefined || store.listOwned === undefined) {
      throw new SessionError(
        'ERR_OPTIONS',
        'SessionManager: listing and revoking by owner needs the owner option (the data key that owns a session) and a store with an owner index',
      )
    }
    const name = ownerOf(owner)
    if (name === undefined) return []
    try {
      return await store.listOwned(name)
    } catch (err) {
      throw toStoreError(err, 'listOwned')
    }
  }

  // Files the session under the owner its data now names, when that differs from the index.
  async #index(state: SessionState): Promise<void> {
    const ownerKey = this.#options.owner as string
    const desired = ownerOf(state.values.get(ownerKey))
    if (desired === state.indexed) return
    const store = this.#options.store
    try {
      await store.setOwner?.(
        state.key,
        desired,
        state.indexed,
        state.device ?? {},
        new Date(this.#options.clock()),
      )
    } catch (err) {
      throw toStoreError(err, 'setOwner')
    }
    state.indexed = desired
  }

  // lastSeenAt moves at most once a minute; a failure to move it must not fail the request.
  #markSeen(key: string, owner: string): void {
    const now = this.#options.clock()
    if (!this.#seen.due(key, now)) return
    this.#options.store.touchOwned?.(key, owner, new Date(now)).catch((err: unknown) => {
      console.error('sessionkit: could not record when a session was last seen:', err)
    })
  }

  // Three-way: the latest stored state plus what this request changed since the bytes it saw.
  #mergeInto(state: SessionState, latest: Uint8Array): void {
    const codec = this.#options.codec
    const base = decode(codec, state.saved as Uint8Array)
    const ours = { deadline: new Date(state.deadline), values: state.values }
    const merged = mergeRecords(codec, base, ours, decode(codec, latest))
    state.values = merged.values
    state.deadline = merged.deadline.getTime()
  }

  // The store's `end` where it has one (atomic, remembered); otherwise a plain delete, after which
  // the bytes this request loaded are the best it knows.
  async #end(
    key: string,
    reason: EndReason,
    fallback: Uint8Array | undefined,
    rememberFor = this.#options.endedTokenTtl,
  ): Promise<Uint8Array | undefined> {
    const { store, clock } = this.#options
    try {
      if (store.end !== undefined)
        return await store.end(key, reason, new Date(clock() + rememberFor))
      await store.delete(key)
      return fallback
    } catch (err) {
      throw toStoreError(err, store.end !== undefined ? 'end' : 'delete')
    }
  }

  async #reasonGone(key: string): Promise<RefusedReason> {
    const store = this.#options.store
    if (store.ended === undefined || this.#options.endedTokenTtl === 0) return 'missing'
    try {
      return (await store.ended(key)) ?? 'missing'
    } catch {
      // The write is refused either way; failing to say why must not turn it into an error.
      return 'missing'
    }
  }

  // The idle window's refresh rule (idleRefresh): when this process last moved the key's expiry.
  #refreshedRecently(state: SessionState): boolean {
    const idle = idleTimeoutOf(state.values, this.#options.idleTimeout)
    if (idle === 0) return false
    const last = this.#refreshed.get(state.key)
    if (last === undefined) return false
    const window = this.#options.idleRefresh ?? Math.min(idle / 10, 60_000)
    return this.#options.clock() - last <= window
  }

  #changedSinceSaved(state: SessionState): boolean {
    if (!state.dirty) return false
    if (state.saved === undefined) return true
    try {
      return !sameBytes(this.#encode(state), state.saved)
    } catch {
      // Unencodable or too large: the commit path reports it, asynchronously, as it always does.
      return true
    }
  }

  #noteRefreshed(key: string): void {
    // Bounded: forgetting costs one early refresh per session.
    if (this.#refreshed.size >= 100_000) this.#refreshed.clear()
    this.#refreshed.set(key, this.#options.clock())
  }

  async #finishBridged(state: SessionState, cookie: string): Promise<string> {
    const bridged = state.bridged as NonNullable<SessionState['bridged']>
    state.bridged = undefined
    state.extraCookies = await bridged.finish(undefined)
    return cookie
  }

  async #commitAndCookie(session: Session<Data>): Promise<string | undefined> {
    const state = session[kState]
    const bridged = state.bridged
    let result: CommitResult
    try {
      result = await this.commit(session)
    } catch (err) {
      bridged?.abandon()
      throw err
    }
    const { token, expiry, committed } = result
    if (bridged !== undefined) {
      state.bridged = undefined
      if (committed) state.extraCookies = await bridged.finish(token)
      else bridged.abandon()
    }
    if (!committed) return undefined
    if (idleTimeoutOf(session[kState].values, this.#options.idleTimeout) > 0) {
      this.#noteRefreshed(session[kState].key)
    }
    if (this.#tokenHeader !== undefined) return this.#bearer ? `Bearer ${token}` : token
    const persist =
      this.#options.cookie.persist || session[kState].values.get(REMEMBER_ME_KEY) === true
    return this.#cookies.live(
      token,
      expiry.getTime(),
      this.#options.clock(),
      persist,
      session[kState].secure,
    )
  }
}

function decode(codec: Codec, data: Uint8Array): SessionRecord {
  try {
    return codec.decode(data)
  } catch (err) {
    if (err instanceof SessionError) throw err
    throw new SessionError('ERR_CODEC', `cannot decode stored session: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

function encode(codec: Codec, deadline: Date, values: ReadonlyMap<string, unknown>): Uint8Array {
  try {
    return codec.encode(deadline, values)
  } catch (err) {
    if (err instanceof SessionError) throw err
    throw new SessionError('ERR_CODEC', `cannot encode session: ${(err as Error).message}`, {
      cause: err,
    })
  }
}
