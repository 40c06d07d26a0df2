import { SessionError } from '../errors.js'
import type { Listeners } from '../events.js'
import type { Owner, SessionInfo } from '../owners.js'
import { handleOf, ownerOf, SeenThrottle, toSessionInfo } from '../owners.js'
import type { SessionState } from '../session.js'
import type { OwnedSession } from '../store.js'
import type { StoreGateway } from './gateway.js'
import { DELETED } from './gateway.js'

/**
 * @internal The manager's side of the owner index (the `owner` option): files each committed
 * session under the owner its data names, moves last-seen times at most once a minute, and lists
 * and revokes an owner's sessions in O(sessions of that owner).
 */
export class OwnerIndex<Data extends object> {
  readonly #gateway: StoreGateway
  readonly #listeners: Listeners<Data>
  readonly #ownerKey: string | undefined
  readonly #clock: () => number
  readonly #seen = new SeenThrottle()

  /** `ownerKey`: the `owner` option, the data key that owns a session; undefined indexes nothing. */
  constructor(
    gateway: StoreGateway,
    listeners: Listeners<Data>,
    ownerKey: string | undefined,
    clock: () => number,
  ) {
    this.#gateway = gateway
    this.#listeners = listeners
    this.#ownerKey = ownerKey
    this.#clock = clock
  }

  /** True when sessions are indexed (the `owner` option is set). */
  get enabled(): boolean {
    return this.#ownerKey !== undefined
  }

  /** Notes a loaded session's owner and, once a minute at most, that it was seen. */
  loaded(state: SessionState): void {
    if (this.#ownerKey === undefined) return
    const owner = ownerOf(state.values.get(this.#ownerKey))
    state.indexed = owner
    if (owner === undefined) return
    const now = this.#clock()
    if (!this.#seen.due(state.key, now)) return
    // A failure to move lastSeenAt must not fail the request.
    this.#gateway.touchOwned(state.key, owner, new Date(now)).catch((err: unknown) => {
      console.error('sessionkit: could not record when a session was last seen:', err)
    })
  }

  /** Files a just-committed session under the owner its data now names, when that differs from the index. */
  async committed(state: SessionState): Promise<void> {
    if (this.#ownerKey === undefined) return
    const desired = ownerOf(state.values.get(this.#ownerKey))
    if (desired === state.indexed) return
    await this.#gateway.setOwner(
      state.key,
      desired,
      state.indexed,
      state.device ?? {},
      new Date(this.#clock()),
    )
    state.indexed = desired
  }

  /** `owner`'s live sessions, most recently seen first; `currentKey` marks the caller's own. */
  async list(owner: Owner, currentKey: string | undefined): Promise<SessionInfo[]> {
    const rows = await this.#owned(owner)
    return rows
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime())
      .map((row) => toSessionInfo(row, currentKey))
  }

  /** Ends every session of `owner` but the one under `keep`; resolves how many it ended. */
  async revokeAll(owner: Owner, keep: string | undefined): Promise<number> {
    let count = 0
    for (const row of await this.#owned(owner)) {
      if (row.key !== keep && (await this.#revokeKey(owner, row.key))) count++
    }
    return count
  }

  /** Ends the session of `owner` whose handle is `id`; false for an unknown id. */
  async revoke(owner: Owner, id: string): Promise<boolean> {
    const row = (await this.#owned(owner)).find((r) => handleOf(r.key) === id)
    if (row === undefined) return false
    return this.#revokeKey(owner, row.key)
  }

  // Ended, but not remembered as ended: the revoked browser has no new cookie or logout to
  // protect, so its next request gets a fresh session and can sign in again at once. Requests it
  // has in flight are refused all the same, since the row is gone.
  async #revokeKey(owner: Owner, key: string): Promise<boolean> {
    // A store without the ending group deletes blindly: the key counts as revoked.
    const until = new Date(this.#clock())
    const ended = (await this.#gateway.end(key, 'destroyed', until, DELETED)) !== undefined
    if (ended) this.#listeners.emit('revoked', { owner: String(owner), id: handleOf(key) })
    return ended
  }

  async #owned(owner: Owner): Promise<OwnedSession[]> {
    // The manager's options refuse `owner` with a store that has no owner index.
    if (this.#ownerKey === undefined) {
      throw new SessionError(
        'ERR_OPTIONS',
        'SessionManager: listing and revoking by owner needs the owner option (the data key that owns a session) and a store with an owner index',
      )
    }
    const name = ownerOf(owner)
    return name === undefined ? [] : this.#gateway.listOwned(name)
  }
}
