import type { Codec, SessionRecord } from './codec.js'
import { CookieWriter, readCookie } from './cookie.js'
import { SessionError, toStoreError } from './errors.js'
import type { ErrorHandler, ResolvedOptions, SessionManagerOptions } from './options.js'
import { resolveOptions } from './options.js'
import type { SessionData, SessionHost, SessionState } from './session.js'
import { kState, REMEMBER_ME_KEY, Session } from './session.js'
import type { Store } from './store.js'
import { isIterableStore } from './store.js'
import { generateToken, hashToken, isValidToken } from './token.js'

/** What `SessionManager#commit` did: the raw token, the expiry it wrote, and whether the store took it. */
export interface CommitResult {
  token: string
  expiry: Date
  /** False when the store refused the write because the session was destroyed or renewed meanwhile. */
  committed: boolean
}

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

  constructor(options: SessionManagerOptions = {}) {
    const resolved = resolveOptions(options)
    this.#options = resolved
    const hash = resolved.hashTokenInStore
    this.#host = {
      store: resolved.store,
      decode: (data) => decode(resolved.codec, data),
      lifetime: resolved.lifetime,
      clock: resolved.clock,
      keyFor: hash ? hashToken : (token) => token,
    }
    this.#cookies = new CookieWriter(resolved.cookie)
    this.#cacheControl = resolved.cacheControl === 'no-store' ? 'no-store' : 'no-cache="Set-Cookie"'
  }

  /** The store sessions live in. */
  get store(): Store {
    return this.#options.store
  }

  /** The session cookie's name. */
  get cookieName(): string {
    return this.#cookies.name
  }

  /** The Cache-Control value sent with every Set-Cookie. */
  get cacheControl(): string {
    return this.#cacheControl
  }

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
  async load(token: string): Promise<Session<Data>> {
    if (!isValidToken(token)) return this.#fresh()
    const key = this.#host.keyFor(token)
    let data: Uint8Array | undefined
    try {
      data = await this.#options.store.find(key)
    } catch (err) {
      throw toStoreError(err, 'find')
    }
    if (data === undefined) return this.#fresh()
    let record: SessionRecord
    try {
      record = decode(this.#options.codec, data)
    } catch (err) {
      if (this.#options.undecodable === 'new-session') return this.#fresh()
      throw err
    }
    const deadline = record.deadline.getTime()
    if (!(deadline >= this.#options.clock())) return this.#fresh()
    return new Session<Data>(this.#host, {
      token,
      key,
      deadline,
      values: record.values instanceof Map ? record.values : new Map(),
      // SCS: with an idle timeout every request re-commits, so a load is already a modification.
      status: this.#options.idleTimeout > 0 ? 'modified' : 'unmodified',
      dirty: false,
      stored: true,
      saved: data,
      sealed: false,
    })
  }

  /**
   * Loads the session named by a request's Cookie header: synchronous, with no store call, when
   * the header holds no well-formed session token.
   */
  loadCookieHeader(header: string | undefined): Session<Data> | Promise<Session<Data>> {
    const token = readCookie(header, this.#cookies.name)
    return token === '' ? this.#fresh() : this.load(token)
  }

  /**
   * Writes the session to the store (SCS Commit), creating its token if it has none. The expiry is
   * min(deadline, now + idleTimeout). A session loaded from the store is written only if its row
   * still exists and a new one only if its key is free; `committed` says whether the store holds
   * it. A session whose encoded bytes equal the stored ones is not rewritten: without an idle
   * timeout nothing is written, and with one only its expiry moves when the store has `touch`.
   */
  async commit(session: Session<Data>): Promise<CommitResult> {
    const state = session[kState]
    if (state.token === '') {
      state.token = generateToken()
      state.key = ''
      state.stored = false
    }
    const { store, idleTimeout, clock } = this.#options
    let expiry = state.deadline
    if (idleTimeout > 0) expiry = Math.min(expiry, clock() + idleTimeout)
    if (state.key === '') state.key = this.#host.keyFor(state.token)
    const expiryDate = new Date(expiry)
    let committed: boolean
    let data: Uint8Array | undefined
    if (state.dirty) {
      data = encode(this.#options.codec, new Date(state.deadline), state.values)
      // A put of the value already stored (the seed's /put) changes nothing in the row.
      if (state.stored && state.saved !== undefined && sameBytes(data, state.saved)) {
        state.dirty = false
      }
    }
    if (!state.dirty && state.stored && idleTimeout === 0) {
      // Without an idle timeout the row's expiry is the deadline inside its data: nothing to write.
      committed = true
    } else if (!state.dirty && state.stored && store.touch !== undefined) {
      try {
        committed = await store.touch(state.key, expiryDate)
      } catch (err) {
        throw toStoreError(err, 'touch')
      }
    } else {
      data ??= encode(this.#options.codec, new Date(state.deadline), state.values)
      try {
        committed = await store.commit(
          state.key,
          data,
          expiryDate,
          state.stored ? 'update' : 'insert',
        )
      } catch (err) {
        throw toStoreError(err, 'commit')
      }
      if (committed) state.saved = data
    }
    state.stored = committed
    if (committed) state.dirty = false
    return { token: state.token, expiry: expiryDate, committed }
  }

  /**
   * The commit step of a response, for adapters: seals the session against later changes and
   * returns the Set-Cookie value to send, or undefined for none. Synchronous unless a store write
   * is needed.
   */
  commitResponse(session: Session<Data>): string | undefined | Promise<string | undefined> {
    const state = session[kState]
    state.sealed = true
    if (state.status === 'unmodified') return undefined
    if (state.status === 'destroyed') return this.#cookies.expired()
    return this.#commitAndCookie(session)
  }

  /**
   * The Set-Cookie value for a live session (SCS WriteSessionCookie): Expires and Max-Age only when
   * `persist` (by default `cookie.persist`).
   */
  sessionCookie(token: string, expiry: Date, persist = this.#options.cookie.persist): string {
    return this.#cookies.live(token, expiry.getTime(), this.#options.clock(), persist)
  }

  /** The Set-Cookie value that deletes the session cookie. */
  expiredCookie(): string {
    return this.#cookies.expired()
  }

  /**
   * Calls `fn` with every live session in the store, one at a time (SCS Iterate); changes are not
   * committed unless `fn` calls `commit` or `destroy`. Works with `hashTokenInStore` (each session's
   * token is then its store key). Rejects with `ERR_NOT_ITERABLE` when the store has no `all()`.
   */
  async iterate(fn: (session: Session<Data>) => void | Promise<void>): Promise<void> {
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
    for (const [key, data] of all) {
      const record = decode(this.#options.codec, data)
      await fn(
        new Session<Data>(this.#host, {
          token: key,
          key,
          deadline: record.deadline.getTime(),
          values: record.values,
          status: 'unmodified',
          dirty: false,
          stored: true,
          saved: data,
          sealed: false,
        }),
      )
    }
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

  /** Attaches `session` to `target` so `from(target)` finds it; for adapters. */
  attach(target: object, session: Session<Data>): void {
    ;(target as Record<symbol, Session<Data>>)[this.#slot] = session
  }

  #fresh(): Session<Data> {
    const state: SessionState = {
      token: '',
      key: '',
      deadline: this.#options.clock() + this.#options.lifetime,
      values: new Map(),
      status: 'unmodified',
      dirty: false,
      stored: false,
      saved: undefined,
      sealed: false,
    }
    return new Session<Data>(this.#host, state)
  }

  async #commitAndCookie(session: Session<Data>): Promise<string | undefined> {
    const { token, expiry, committed } = await this.commit(session)
    if (!committed) return undefined
    const persist =
      this.#options.cookie.persist || session[kState].values.get(REMEMBER_ME_KEY) === true
    return this.#cookies.live(token, expiry.getTime(), this.#options.clock(), persist)
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
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
