import type { Session, SessionState } from '../session.js'
import { kState, REMEMBER_ME_KEY } from '../session.js'
import type { CommitResult, Committer } from './commit.js'
import type { IdleRefresh } from './idle-refresh.js'
import type { TokenTransport } from './transport.js'

/**
 * @internal The commit step of a response (`SessionManager#commitResponse`): seals the session,
 * decides whether anything goes out (nothing for an unchanged or refused session, a deletion for a
 * destroyed one, no refresh inside the idle window), commits, and finishes a bridged move.
 */
export class Responder<Data extends object> {
  readonly #committer: Committer<Data>
  readonly #idle: IdleRefresh
  readonly #transport: TokenTransport

  constructor(committer: Committer<Data>, idle: IdleRefresh, transport: TokenTransport) {
    this.#committer = committer
    this.#idle = idle
    this.#transport = transport
  }

  /** See `SessionManager#commitResponse`. */
  respond(session: Session<Data>): string | undefined | Promise<string | undefined> {
    const state = session[kState]
    state.sealed = true
    if (state.status === 'unmodified') return undefined
    if (state.refused !== undefined) {
      // No cookie at all, not even a deletion: it would log out a browser that signed in anew.
      this.#committer.refuse(session, state.refused, true)
      return undefined
    }
    if (state.status === 'destroyed') {
      // Signed out on the very request that moved it: the old session must go too, or the next
      // request would move it over again and undo the logout.
      const ended = this.#transport.ended(state.secure)
      if (state.bridged !== undefined) return this.#finishBridged(state, ended)
      return ended
    }
    // Nothing changed (or a put left the bytes as stored, the seed's /put) and the expiry moved
    // recently: neither a touch nor a cookie is worth it.
    if (
      state.stored &&
      this.#idle.recently(state.key, state.values) &&
      !this.#committer.changedSinceSaved(state)
    ) {
      state.dirty = false
      return undefined
    }
    return this.#commitAndRespond(session)
  }

  async #finishBridged(state: SessionState, value: string): Promise<string> {
    const bridged = state.bridged as NonNullable<SessionState['bridged']>
    state.bridged = undefined
    state.extraCookies = await bridged.finish(undefined)
    return value
  }

  async #commitAndRespond(session: Session<Data>): Promise<string | undefined> {
    const state = session[kState]
    const bridged = state.bridged
    let result: CommitResult
    try {
      result = await this.#committer.commit(session)
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
    this.#idle.note(state.key, state.values)
    const rememberMe = state.values.get(REMEMBER_ME_KEY) === true
    return this.#transport.live(token, expiry.getTime(), rememberMe, state.secure)
  }
}
