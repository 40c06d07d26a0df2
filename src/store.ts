/**
 * How a commit treats an existing row. No mode upserts, as SCS does. `'insert'` writes only when
 * the key is absent (a brand-new token); `'update'` writes only when the key is still there (a
 * session loaded from the store), so a request that finishes after a logout or a token renewal
 * cannot bring the old session back.
 */
export type CommitMode = 'insert' | 'update'

/** Why a token stopped naming a session: its data moved to a new token, or it was logged out. */
export type EndReason = 'renewed' | 'destroyed'

/** A stored reason as an EndReason, or undefined for anything else (a row another program wrote). */
export function toEndReason(value: unknown): EndReason | undefined {
  return value === 'renewed' || value === 'destroyed' ? value : undefined
}

/** The device a session was signed in from, as its first request to carry an owner showed it. */
export interface DeviceInfo {
  userAgent?: string
  ip?: string
}

/** One live session in a store's owner index. */
export interface OwnedSession extends DeviceInfo {
  /** The session's store key. */
  key: string
  /** When the session was first indexed under an owner. */
  createdAt: Date
  /** When a request last carried it, to within a minute. */
  lastSeenAt: Date
  /** When the store will consider it gone (its row's expiry). */
  expiresAt: Date
}

/**
 * A session store: the whole contract lives here, and one shared suite checks every store.
 *
 * - `find` resolves the data for a live key, or `undefined` for a key that is unknown, expired
 *   or malformed. It rejects only on a system failure, with a `StoreError` whose `cause` is the
 *   driver's error.
 * - `commit` writes `data` with `expiry`. With no mode it inserts or overwrites data and expiry.
 *   With `'insert'` it resolves `false`, writing nothing, when the key already holds a live row;
 *   with `'update'` it resolves `false`, writing nothing, when the key holds no row. Otherwise it
 *   resolves `true`. An expiry in the past leaves the key unfindable.
 * - `delete` removes a key; an unknown key is a no-op, not an error.
 * - `touch` (optional) moves a row's expiry without rewriting its data, and resolves `false`
 *   when the key holds no row. The manager uses it for idle-timeout refreshes.
 * - `replace` (optional) is compare-and-set, atomic in the store: it writes `data` and `expiry`
 *   only when the key's live row holds exactly the bytes `expected`, and resolves `true`. When
 *   the live row holds other bytes it writes nothing and resolves those bytes; when no live row
 *   holds the key it writes nothing and resolves `undefined`. The manager merges overlapping
 *   requests with it. Without it, a loaded session is written back whole with `'update'`, and
 *   the later of two overlapping requests overwrites the other's keys.
 * - `end` (optional) ends a session atomically: it removes the key's row and, when that row was
 *   live, remembers the key as ended for `reason` until `until`, and resolves the bytes the row
 *   held; with no live row it resolves `undefined` and remembers nothing. Without it the manager
 *   calls `delete`, and in-flight requests of a renewed or destroyed token are not recognised.
 * - `ended` (optional, with `end`) resolves the reason a key was ended while that memory lasts
 *   (`until` has not passed), and `undefined` otherwise.
 * - `setOwner`, `listOwned` and `touchOwned` (optional, together) keep an index of sessions by
 *   owner beside the sessions. `setOwner(key, owner, previous, device, at)` files `key` under
 *   `owner` (created and last seen at `at`, with `device`), taking it out of `previous`'s; an
 *   `owner` of `undefined` only takes it out. `listOwned(owner)` resolves that owner's sessions
 *   that are live now, in O(sessions of that owner), never one whose row is gone (expired,
 *   ended, deleted by any program); `touchOwned(key, owner, at)` moves the last-seen time of
 *   `key`, filed under `owner`.
 *   Ending or deleting a session takes it out of the index (or `listOwned` skips it).
 * - `onExpired(listener)` (optional) has the store's own cleanup call `listener` with the number
 *   of expired sessions each sweep removed (none for stores whose server expires keys itself).
 *
 * Keys are opaque strings (a raw token, or its hash under `hashTokenInStore`); data is opaque.
 * What `end` remembers lives beside the sessions (its own table or keys), never in a session row,
 * so a Go program sharing the store sees only sessions.
 */
export interface Store {
  find(key: string): Promise<Uint8Array | undefined>
  commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean>
  delete(key: string): Promise<void>
  touch?(key: string, expiry: Date): Promise<boolean>
  replace?(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined>
  end?(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined>
  ended?(key: string): Promise<EndReason | undefined>
  setOwner?(
    key: string,
    owner: string | undefined,
    previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void>
  listOwned?(owner: string): Promise<OwnedSession[]>
  touchOwned?(key: string, owner: string, at: Date): Promise<void>
  onExpired?(listener: (count: number) => void): void
}

/** A store that can list its live sessions: `all` resolves key → data for every unexpired row (an empty map when none). */
export interface IterableStore extends Store {
  all(): Promise<Map<string, Uint8Array>>
}

/** True when `store` implements `all()`, so `SessionManager#iterate` can use it. */
export function isIterableStore(store: Store): store is IterableStore {
  return typeof (store as Partial<IterableStore>).all === 'function'
}
