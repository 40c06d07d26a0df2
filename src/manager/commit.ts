import { sameBytes } from '../bytes.js'
import type { Codec } from '../codec.js'
import { decodeRecord, encodeRecord } from '../codec.js'
import { SessionError, StoreError } from '../errors.js'
import type { Listeners } from '../events.js'
import { mergeRecords } from '../merge.js'
import type { RefusedReason, Session, SessionState } from '../session.js'
import { blankState, kState } from '../session.js'
import type { EndReason } from '../store.js'
import { generateToken } from '../token.js'
import type { StoreGateway } from './gateway.js'
import type { IdleRefresh } from './idle-refresh.js'
import type { OwnerIndex } from './owner-index.js'

/** What `SessionManager#commit` did: the raw token, the expiry it wrote, and whether the store took it. */
export interface CommitResult {
  token: string
  expiry: Date
  /** False when the store refused the write because the session was destroyed or renewed meanwhile. */
  committed: boolean
}

/** The parts of the manager's options a commit reads. */
export interface CommitOptions {
  codec: Codec
  maxBytes: number
  endedTokenTtl: number
  clock: () => number
}

// Each failed compare-and-set means another request's write landed, so the loop always makes
// progress; the bound only stops a pathological hot session from holding a request forever.
const MAX_MERGE_ATTEMPTS = 32

/**
 * @internal Writes sessions (SCS Commit) and ends them: the compare-and-set loop that applies a
 * request's own changes to the latest stored state, the refusal of a session that ended
 * elsewhere, and the memory of ended tokens.
 */
export class Committer<Data extends object> {
  readonly #options: CommitOptions
  readonly #gateway: StoreGateway
  readonly #idle: IdleRefresh
  readonly #owners: OwnerIndex<Data>
  readonly #listeners: Listeners<Data>
  readonly #keyFor: (token: string) => string

  constructor(
    options: CommitOptions,
    gateway: StoreGateway,
    idle: IdleRefresh,
    owners: OwnerIndex<Data>,
    listeners: Listeners<Data>,
    keyFor: (token: string) => string,
  ) {
    this.#options = options
    this.#gateway = gateway
    this.#idle = idle
    this.#owners = owners
    this.#listeners = listeners
    this.#keyFor = keyFor
  }

  /** See `SessionManager#commit`. */
  async commit(session: Session<Data>): Promise<CommitResult> {
    const state = session[kState]
    if (state.refused !== undefined) {
      return this.refuse(session, state.refused, state.status !== 'unmodified')
    }
    if (state.token === '') {
      state.token = generateToken()
      state.key = ''
      state.stored = false
    }
    if (state.key === '') state.key = this.#keyFor(state.token)
    let data: Uint8Array | undefined
    if (state.dirty) {
      data = this.encode(state)
      // A put of the value already stored (the seed's /put) changes nothing in the row.
      if (state.stored && state.saved !== undefined && sameBytes(data, state.saved)) {
        state.dirty = false
      }
    }
    const changed = state.dirty
    let expiry = this.#idle.expiryOf(state.deadline, state.values)
    let committed: boolean
    if (!state.dirty && state.stored && this.#idle.canRefresh(state.values)) {
      committed = await this.#refresh(state, expiry)
    } else if (state.stored && state.saved !== undefined) {
      committed = await this.#merge(state, data ?? this.encode(state))
      expiry = this.#idle.expiryOf(state.deadline, state.values)
    } else {
      data ??= this.encode(state)
      const mode = state.stored ? 'update' : 'insert'
      committed = await this.#gateway.commit(state.key, data, new Date(expiry), mode)
      if (committed) state.saved = data
    }
    if (!committed && state.stored) {
      const reason = await this.reasonGone(state.key)
      Object.assign(state, blankState(state.deadline), { refused: reason, sealed: state.sealed })
      return this.refuse(session, reason, changed)
    }
    const inserted = committed && !state.stored
    state.stored = committed
    if (inserted) {
      this.#listeners.emit(state.renewed ? 'renewed' : 'created', { session })
      state.renewed = false
    }
    if (committed) {
      state.dirty = false
      await this.#owners.committed(state)
    }
    return { token: state.token, expiry: new Date(expiry), committed }
  }

  /** Reports a refused session's dropped changes once, and leaves it nothing to write. */
  refuse(session: Session<Data>, reason: RefusedReason, dropped: boolean): CommitResult {
    const state = session[kState]
    state.status = 'unmodified'
    if (dropped) this.#listeners.emit('refused', { reason, session })
    return { token: state.token, expiry: new Date(state.deadline), committed: false }
  }

  /** The session's bytes for a write, refused whole when over `maxBytes`: nothing of it reaches the store. */
  encode(state: SessionState): Uint8Array {
    const data = encodeRecord(this.#options.codec, new Date(state.deadline), state.values)
    const limit = this.#options.maxBytes
    if (limit > 0 && data.byteLength > limit) {
      throw new SessionError(
        'ERR_TOO_LARGE',
        `the session is ${data.byteLength} bytes encoded, over the maxBytes limit of ${limit}; store less in it (large data belongs in your database, keyed by the session's user)`,
      )
    }
    return data
  }

  /** True when the session's data differs from the bytes last saved (or cannot be encoded). */
  changedSinceSaved(state: SessionState): boolean {
    if (!state.dirty) return false
    if (state.saved === undefined) return true
    try {
      return !sameBytes(this.encode(state), state.saved)
    } catch {
      // Unencodable or too large: the commit path reports it, asynchronously, as it always does.
      return true
    }
  }

  /** Three-way merge: the latest stored state plus what this request changed since the bytes it saw. */
  mergeInto(state: SessionState, latest: Uint8Array): void {
    const codec = this.#options.codec
    const base = decodeRecord(codec, state.saved as Uint8Array)
    const ours = { deadline: new Date(state.deadline), values: state.values }
    const merged = mergeRecords(codec, base, ours, decodeRecord(codec, latest))
    state.values = merged.values
    state.deadline = merged.deadline.getTime()
  }

  /** Ends `key`'s row, remembered as ended for `rememberFor` ms; resolves the bytes it held (`fallback` after a plain delete). */
  end(
    key: string,
    reason: EndReason,
    fallback: Uint8Array | undefined,
    rememberFor = this.#options.endedTokenTtl,
  ): Promise<Uint8Array | undefined> {
    const until = new Date(this.#options.clock() + rememberFor)
    return this.#gateway.end(key, reason, until, fallback)
  }

  /** Why a row this request expected is gone: renewed or destroyed while remembered, else missing. */
  async reasonGone(key: string): Promise<RefusedReason> {
    if (this.#options.endedTokenTtl === 0) return 'missing'
    try {
      return (await this.#gateway.ended(key)) ?? 'missing'
    } catch {
      // The write is refused either way; failing to say why must not turn it into an error.
      return 'missing'
    }
  }

  // Unchanged data: without an idle timeout nothing is written; with one only the expiry moves.
  #refresh(state: SessionState, expiry: number): Promise<boolean> | boolean {
    if (!this.#idle.needsTouch(state.values)) return true
    return this.#gateway.touch(state.key, new Date(expiry))
  }

  // Compare-and-set against the bytes this request last saw; when another request wrote first,
  // this request's own changes are applied to what it wrote, and the write is tried again.
  async #merge(state: SessionState, first: Uint8Array): Promise<boolean> {
    let expected = state.saved as Uint8Array
    let data = first
    for (let attempt = 1; ; attempt++) {
      const expiry = new Date(this.#idle.expiryOf(state.deadline, state.values))
      const result = await this.#gateway.write(state.key, expected, data, expiry)
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
      this.mergeInto(state, result)
      // The next round's base is what won this one, so only this request's changes travel.
      state.saved = result
      expected = result
      data = this.encode(state)
      if (sameBytes(data, result) && this.#idle.canRefresh(state.values)) {
        return this.#refresh(state, this.#idle.expiryOf(state.deadline, state.values))
      }
    }
  }
}
