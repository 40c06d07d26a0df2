import { BridgeRunner } from '../bridge.js'
import type { Codec, SessionRecord } from '../codec.js'
import { decodeRecord } from '../codec.js'
import type { SessionError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { RefusedReason, SessionHost } from '../session.js'
import { blankState, kState, Session } from '../session.js'
import { isValidToken } from '../token.js'
import type { StoreGateway } from './gateway.js'
import type { IdleRefresh } from './idle-refresh.js'
import type { OwnerIndex } from './owner-index.js'
import type { TokenTransport } from './transport.js'

/** What `SessionManager#iterate` did: how many sessions `fn` saw, and the rows it skipped as undecodable. */
export interface IterateResult {
  visited: number
  /** Each row the codec could not read: its store key and the `ERR_CODEC` error. */
  undecodable: { key: string; error: SessionError }[]
}

/**
 * @internal Reads sessions (SCS Load and Iterate): a token's stored session, a fresh one, or a
 * refused one for a token renewed or destroyed moments ago; and a request's session from its
 * header, through the bridge when it carries another library's cookie.
 */
export class Loader<Data extends object> {
  readonly #options: ResolvedOptions
  readonly #codec: Codec
  readonly #gateway: StoreGateway
  readonly #host: SessionHost
  readonly #idle: IdleRefresh
  readonly #owners: OwnerIndex<Data>
  readonly #transport: TokenTransport
  readonly #bridge: BridgeRunner | undefined

  constructor(
    options: ResolvedOptions,
    gateway: StoreGateway,
    host: SessionHost,
    idle: IdleRefresh,
    owners: OwnerIndex<Data>,
    transport: TokenTransport,
  ) {
    this.#options = options
    this.#codec = options.codec
    this.#gateway = gateway
    this.#host = host
    this.#idle = idle
    this.#owners = owners
    this.#transport = transport
    this.#bridge = options.bridge === undefined ? undefined : new BridgeRunner(options.bridge)
  }

  /** See `SessionManager#load`. */
  async load(token: string | undefined): Promise<Session<Data>> {
    if (!isValidToken(token)) return this.fresh()
    const key = this.#host.keyFor(token)
    const data = await this.#gateway.find(key)
    if (data === undefined) {
      if (this.#options.endedTokenTtl === 0) return this.fresh()
      // Renewed or destroyed moments ago: an in-flight request must not start a new session
      // whose cookie would replace the sign-in's, or undo the logout, in the browser.
      const reason = await this.#gateway.ended(key)
      return reason === undefined ? this.fresh() : this.#refused(reason)
    }
    let record: SessionRecord
    try {
      record = decodeRecord(this.#codec, data)
    } catch (err) {
      if (this.#options.undecodable === 'new-session') return this.fresh()
      throw err
    }
    const deadline = record.deadline.getTime()
    if (!(deadline >= this.#options.clock())) return this.fresh()
    const state = blankState(deadline)
    state.token = token
    state.key = key
    state.values = record.values instanceof Map ? record.values : new Map()
    // SCS: with an idle timeout every request re-commits, so a load is already a modification.
    if (this.#idle.idleOf(state.values) > 0) state.status = 'modified'
    state.stored = true
    state.saved = data
    this.#owners.loaded(state)
    return new Session<Data>(this.#host, state)
  }

  /** See `SessionManager#loadCookieHeader`. */
  loadHeader(header: string | undefined): Session<Data> | Promise<Session<Data>> {
    const token = this.#transport.tokenOf(header)
    if (token !== '') return this.load(token)
    // Only a request with a verified cookie of the old library costs more than a fresh session.
    const oldId = this.#bridge?.idOf(header)
    if (this.#bridge === undefined || oldId === undefined) return this.fresh()
    return this.#bridge
      .load(
        oldId,
        () => this.fresh(),
        (moved) => this.load(moved),
        (session, bridged) => {
          session[kState].bridged = bridged
        },
      )
      .then((session) => session ?? this.fresh())
  }

  /** See `SessionManager#iterate`. */
  async iterate(fn: (session: Session<Data>) => void | Promise<void>): Promise<IterateResult> {
    const all = await this.#gateway.all()
    const result: IterateResult = { visited: 0, undecodable: [] }
    for (const [key, data] of all) {
      let record: SessionRecord
      try {
        record = decodeRecord(this.#codec, data)
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

  /** A new, empty session whose deadline is now + lifetime. */
  fresh(): Session<Data> {
    return new Session<Data>(this.#host, blankState(this.#options.clock() + this.#options.lifetime))
  }

  #refused(reason: RefusedReason): Session<Data> {
    const state = blankState(this.#options.clock() + this.#options.lifetime)
    state.refused = reason
    return new Session<Data>(this.#host, state)
  }
}
