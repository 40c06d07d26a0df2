import type { Bridged } from './bridge.js'
import { sameBytes } from './bytes.js'
import type { SessionRecord } from './codec.js'
import { MAX_DEADLINE } from './deadline.js'
import { SessionError } from './errors.js'
import type { DeviceInfo, EndReason } from './store.js'
import { generateToken } from './token.js'

/** The default session data type: any string key, unknown values. Managers accept any object type (interfaces too). */
export type SessionData = Record<string, unknown>

/** The string keys of a session data type. */
export type SessionKey<Data extends object> = Extract<keyof Data, string>

/** `unmodified`: nothing to write; `modified`: commit at the end of the request; `destroyed`: send the deletion cookie. */
export type SessionStatus = 'unmodified' | 'modified' | 'destroyed'

/**
 * Why a session's changes will not be written: its token was renewed or destroyed by another
 * request (`'renewed'`, `'destroyed'`), or its row vanished without a trace (`'missing'`: it
 * expired, another program deleted it, or the memory of its ending has lapsed).
 */
export type RefusedReason = EndReason | 'missing'

/** The key SCS's RememberMe stores; it is part of the session's data. */
export const REMEMBER_ME_KEY = '__rememberMe'

/** The key `Session#setIdleTimeout` stores a session's own idle timeout under, in ms. */
export const IDLE_TIMEOUT_KEY = '__idleTimeout'

/** @internal A session's idle timeout: its own when set with setIdleTimeout, else the manager's. */
export function idleTimeoutOf(
  values: ReadonlyMap<string, unknown> | undefined,
  fallback: number,
): number {
  const own = values?.get(IDLE_TIMEOUT_KEY)
  return typeof own === 'number' && own > 0 ? own : fallback
}

/** Go's zero time.Time (0001-01-01T00:00:00Z), the getDate zero value. */
export const ZERO_TIME = -62_135_596_800_000

/** @internal What a session needs from its manager. */
export interface SessionHost {
  /** The store's `find`, with its failures as StoreErrors. */
  find(key: string): Promise<Uint8Array | undefined>
  /** The codec's decode, with its failures as `ERR_CODEC` SessionErrors. */
  decode(data: Uint8Array): SessionRecord
  readonly lifetime: number
  readonly clock: () => number
  keyFor(token: string): string
  /** Removes a session's row for good (remembering why, when the store can); resolves the bytes it held, or undefined when it was already gone. */
  end(
    key: string,
    reason: EndReason,
    fallback: Uint8Array | undefined,
  ): Promise<Uint8Array | undefined>
  /** Why a vanished row is gone, for a refused session. */
  reasonGone(key: string): Promise<RefusedReason>
  /** Applies what this request changed since `state.saved` to `latest` (newer stored bytes), in place. */
  merge(state: SessionState, latest: Uint8Array): void
  /** Reports that a stored session was destroyed by this request, before it is emptied. */
  destroyed(session: Session<object>): void
}

/** @internal The mutable state of a session, shared with its manager through {@link kState}. */
export interface SessionState {
  token: string
  /** The store key of `token`, cached; '' until first needed. */
  key: string
  deadline: number
  values: Map<string, unknown>
  status: SessionStatus
  /** Data or deadline changed since load, so a touch cannot stand in for a commit. */
  dirty: boolean
  /** The store holds a row for `token` as far as this request knows. */
  stored: boolean
  /** The bytes that row holds (as loaded or last written), so an identical write can be skipped. */
  saved: Uint8Array | undefined
  /** The response has started: any change now would be lost, so it throws. */
  sealed: boolean
  /** The session ended elsewhere: nothing this request does is written, and no cookie is sent. */
  refused: RefusedReason | undefined
  /** The owner `key` is filed under in the store's owner index, as far as this request knows. */
  indexed: string | undefined
  /** The device the adapter saw, recorded when the session is first filed under an owner. */
  device: DeviceInfo | undefined
  /** renewToken ran: the next insert is a renewal (the `renewed` event), not a new session. */
  renewed: boolean
  /** Moved over from another library by the manager's bridge: its commit finishes the move. */
  bridged: Bridged | undefined
  /** Set-Cookie values to send besides the session's own (the bridge's deletion of the old cookie). */
  extraCookies: readonly string[]
  /** The request came over HTTPS, as the adapter judged it; read only with `cookie.secure: 'auto'`. */
  secure: boolean
}

/** @internal A session state with nothing in it, for `token` as stored (or not) under `key`. */
export function blankState(deadline: number): SessionState {
  return {
    token: '',
    key: '',
    deadline,
    values: new Map(),
    status: 'unmodified',
    dirty: false,
    stored: false,
    saved: undefined,
    sealed: false,
    refused: undefined,
    indexed: undefined,
    device: undefined,
    renewed: false,
    bridged: undefined,
    extraCookies: [],
    secure: false,
  }
}

/** @internal */
export const kState: unique symbol = Symbol('sessionkit.state')

/**
 * One request's session (SCS `sessionData`), typed by the manager's data type. Reads never change
 * the status; every write marks it modified, except the no-ops SCS defines (pop or remove of a
 * missing key, clear of an empty session). Once the response has started, a write throws
 * `ERR_SESSION_SENT` instead of being lost.
 */
export class Session<Data extends object = SessionData> {
  /** @internal */
  readonly [kState]: SessionState
  readonly #host: SessionHost

  /** @internal Sessions come from `SessionManager#load`, never from user code. */
  constructor(host: SessionHost, state: SessionState) {
    this.#host = host
    this[kState] = state
  }

  /** The raw token; '' for a session never committed, and after destroy(). */
  get token(): string {
    return this[kState].token
  }

  /** The absolute deadline; with an idle timeout the session may end sooner. */
  get deadline(): Date {
    return new Date(this[kState].deadline)
  }

  /** Whether and how the response must write the session back. */
  get status(): SessionStatus {
    return this[kState].status
  }

  /**
   * Why this session's changes will not be written, or undefined while they will: set when its
   * token was renewed or destroyed by another request (seen at load, at `renewToken`, `destroy`
   * or commit). A refused session is empty, writes nothing and sends no Set-Cookie.
   */
  get refused(): RefusedReason | undefined {
    return this[kState].refused
  }

  /** The value under `key`, or undefined. */
  get<K extends SessionKey<Data>>(key: K): Data[K] | undefined {
    return this[kState].values.get(key) as Data[K] | undefined
  }

  /** Stores `value` under `key` and marks the session modified, even for an identical value (SCS). */
  put<K extends SessionKey<Data>>(key: K, value: Data[K]): void {
    const state = this.#write()
    state.values.set(key, value)
  }

  /** Removes and returns the value under `key`; a missing key returns undefined and changes nothing. */
  pop<K extends SessionKey<Data>>(key: K): Data[K] | undefined {
    return this.#take(key) as Data[K] | undefined
  }

  /** Removes `key`; a missing key changes nothing. */
  remove(key: SessionKey<Data>): void {
    this.#take(key)
  }

  /** Removes every value, keeping token and deadline; an empty session stays unmodified. */
  clear(): void {
    if (this[kState].values.size === 0) return
    this.#write().values.clear()
  }

  /** True when `key` is present, even holding undefined or null. */
  has(key: SessionKey<Data>): boolean {
    return this[kState].values.has(key)
  }

  /** Every key, internal ones such as `__rememberMe` included, sorted by UTF-16 code unit. */
  keys(): string[] {
    return [...this[kState].values.keys()].sort()
  }

  /** The string under `key`, or '' when missing or not a string (SCS GetString). */
  getString(key: SessionKey<Data>): string {
    const v = this[kState].values.get(key)
    return typeof v === 'string' ? v : ''
  }

  /** The number under `key`, or 0 when missing or not a number (SCS GetInt/GetFloat). */
  getNumber(key: SessionKey<Data>): number {
    const v = this[kState].values.get(key)
    return typeof v === 'number' ? v : 0
  }

  /** The boolean under `key`, or false when missing or not a boolean (SCS GetBool). */
  getBoolean(key: SessionKey<Data>): boolean {
    return this[kState].values.get(key) === true
  }

  /** The bytes under `key`, or an empty Uint8Array when missing or not bytes (SCS GetBytes). */
  getBytes(key: SessionKey<Data>): Uint8Array {
    const v = this[kState].values.get(key)
    return v instanceof Uint8Array ? v : new Uint8Array(0)
  }

  /** The Date under `key`, or Go's zero time ({@link ZERO_TIME}) when missing or not a Date (SCS GetTime). */
  getDate(key: SessionKey<Data>): Date {
    const v = this[kState].values.get(key)
    return v instanceof Date ? v : new Date(ZERO_TIME)
  }

  /** getString, then removes the key; a present key of the wrong type is still removed (SCS). */
  popString(key: SessionKey<Data>): string {
    const v = this.#take(key)
    return typeof v === 'string' ? v : ''
  }

  /** getNumber, then removes the key, as popString. */
  popNumber(key: SessionKey<Data>): number {
    const v = this.#take(key)
    return typeof v === 'number' ? v : 0
  }

  /** getBoolean, then removes the key, as popString. */
  popBoolean(key: SessionKey<Data>): boolean {
    return this.#take(key) === true
  }

  /** getBytes, then removes the key, as popString. */
  popBytes(key: SessionKey<Data>): Uint8Array {
    const v = this.#take(key)
    return v instanceof Uint8Array ? v : new Uint8Array(0)
  }

  /** getDate, then removes the key, as popString. */
  popDate(key: SessionKey<Data>): Date {
    const v = this.#take(key)
    return v instanceof Date ? v : new Date(ZERO_TIME)
  }

  /** Sets the absolute deadline (a past date ends the session) and marks it modified; throws a RangeError for an invalid Date or one after year 9999. */
  setDeadline(deadline: Date): void {
    const ms = deadline instanceof Date ? deadline.getTime() : Number.NaN
    if (Number.isNaN(ms)) throw new RangeError('Session#setDeadline: invalid Date')
    if (ms > MAX_DEADLINE) {
      throw new RangeError(
        `Session#setDeadline: ${deadline.toISOString()} is past the latest deadline a cookie and a store can hold, ${new Date(MAX_DEADLINE).toISOString()}`,
      )
    }
    this.#write().deadline = ms
  }

  /**
   * Gives this session its own sliding idle timeout in ms (an admin's shorter one, say), stored
   * with the session under `__idleTimeout`; 0 goes back to the manager's `idleTimeout`. Throws a
   * RangeError for a negative or non-finite value.
   */
  setIdleTimeout(ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_DEADLINE) {
      throw new RangeError(`Session#setIdleTimeout: ms must be a non-negative number, got ${ms}`)
    }
    const state = this.#write()
    if (ms === 0) state.values.delete(IDLE_TIMEOUT_KEY)
    else state.values.set(IDLE_TIMEOUT_KEY, ms)
  }

  /** With `cookie.persist: false`, gives this session a persistent cookie (true) or a browser-session one (false). */
  rememberMe(value: boolean): void {
    this.#write().values.set(REMEMBER_ME_KEY, value)
  }

  /**
   * Deletes the session from the store now, empties it, and makes the response send the deletion
   * cookie. When another request already ended it, the session is refused instead: the response
   * sends no cookie, so it cannot log out a browser that signed in again meanwhile.
   */
  async destroy(): Promise<void> {
    const state = this.#assertOpen()
    if (state.refused !== undefined) return
    if (state.stored && (await this.#end(state, 'destroyed')) === undefined) return
    // Reported while the session still holds its values: a listener wants to know whose it was.
    if (state.stored) this.#host.destroyed(this)
    Object.assign(state, blankState(this.#host.clock() + this.#host.lifetime), {
      status: 'destroyed',
      dirty: true,
      device: state.device,
      secure: state.secure,
      // A session the bridge just moved over: its response must end the old one too.
      bridged: state.bridged,
    })
  }

  /**
   * Issues a new token (against session fixation, e.g. at sign-in), deletes the old one from the
   * store now, resets the deadline to now + lifetime, and keeps the values, merged with what other
   * requests stored meanwhile. The old token is remembered as renewed, so requests still carrying
   * it get an empty session and no cookie. When another request already ended the session, it
   * becomes empty and refused: nothing it held moves to a new token.
   */
  async renewToken(): Promise<void> {
    const state = this.#assertOpen()
    if (state.refused !== undefined) return
    if (state.stored) {
      const latest = await this.#end(state, 'renewed')
      if (latest === undefined) return
      if (state.saved !== undefined && !sameBytes(latest, state.saved)) {
        this.#host.merge(state, latest)
      }
    }
    state.token = generateToken()
    state.key = ''
    state.deadline = this.#host.clock() + this.#host.lifetime
    state.status = 'modified'
    state.dirty = true
    state.stored = false
    state.saved = undefined
    state.indexed = undefined
    state.renewed = true
  }

  /**
   * Copies another stored session's values into this one (the other's win), extends the deadline
   * to the later of the two, and ends the other session (remembered as renewed). An unknown token,
   * or this session's own, is a no-op.
   */
  async mergeSession(token: string): Promise<void> {
    const state = this.#assertOpen()
    if (state.refused !== undefined || state.token === token) return
    const host = this.#host
    const key = host.keyFor(token)
    const data = await host.find(key)
    if (data === undefined) return
    // Decoded before the other row is removed, so unreadable data is reported, never lost.
    let other = host.decode(data)
    const latest = await host.end(key, 'renewed', data)
    if (latest === undefined) return
    if (!sameBytes(latest, data)) other = host.decode(latest)
    const current = this.#write()
    const otherDeadline = other.deadline.getTime()
    if (otherDeadline > current.deadline) current.deadline = otherDeadline
    for (const [k, v] of other.values) current.values.set(k, v)
  }

  #take(key: string): unknown {
    const values = this[kState].values
    if (!values.has(key)) return undefined
    const v = values.get(key)
    this.#write().values.delete(key)
    return v
  }

  #write(): SessionState {
    const state = this.#assertOpen()
    state.status = 'modified'
    state.dirty = true
    return state
  }

  #assertOpen(): SessionState {
    const state = this[kState]
    if (state.sealed) {
      throw new SessionError(
        'ERR_SESSION_SENT',
        'the session was changed after its response started; make session changes before writing the response',
      )
    }
    return state
  }

  // Ends the stored row; when it was already gone, the session becomes empty and refused.
  async #end(state: SessionState, reason: EndReason): Promise<Uint8Array | undefined> {
    const host = this.#host
    const key = state.key || host.keyFor(state.token)
    const latest = await host.end(key, reason, state.saved)
    if (latest !== undefined) return latest
    const refused = await host.reasonGone(key)
    Object.assign(state, blankState(state.deadline), { refused })
    return undefined
  }
}
