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
 * A session store's required methods; every optional ability is a capability group below, which a
 * store implements whole or not at all. One shared suite (`sessionkit/testing`) checks every store.
 *
 * - `find` resolves the data for a live key, or `undefined` for a key that is unknown, expired
 *   or malformed. It rejects only on a system failure, with a `StoreError` whose `cause` is the
 *   driver's error.
 * - `commit` writes `data` with `expiry`. With no mode it inserts or overwrites data and expiry.
 *   With `'insert'` it resolves `false`, writing nothing, when the key already holds a live row;
 *   with `'update'` it resolves `false`, writing nothing, when the key holds no row. Otherwise it
 *   resolves `true`. An expiry in the past leaves the key unfindable.
 * - `delete` removes a key; an unknown key is a no-op, not an error.
 *
 * Keys are opaque strings (a raw token, or its hash under `hashTokenInStore`); data is opaque.
 * The manager checks at construction that each group a store starts is complete, and reaches the
 * groups only through its type guards, resolved once.
 */
export interface Store {
  find(key: string): Promise<Uint8Array | undefined>
  commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean>
  delete(key: string): Promise<void>
}

/**
 * Capability group `touch`: `touch` moves a row's expiry without rewriting its data, and resolves
 * `false` when the key holds no live row. Without it an idle-timeout refresh rewrites the session.
 */
export interface TouchStore extends Store {
  touch(key: string, expiry: Date): Promise<boolean>
}

/**
 * Capability group `compareAndSet`: `replace` writes `data` and `expiry` only when the key's live
 * row holds exactly the bytes `expected`, atomically in the store, and resolves `true`. When the
 * live row holds other bytes it writes nothing and resolves those bytes; with no live row it writes
 * nothing and resolves `undefined`. Without it a loaded session is written back whole with
 * `'update'`, and the later of two overlapping requests overwrites the other's keys.
 */
export interface CompareAndSetStore extends Store {
  replace(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined>
}

/**
 * Capability group `ending`: `end` removes the key's row atomically and, when that row was live,
 * remembers the key as ended for `reason` until `until` and resolves the bytes the row held; with
 * no live row it resolves `undefined` and remembers nothing. `ended` resolves the reason a key was
 * ended while that memory lasts, and `undefined` otherwise. What `end` remembers lives beside the
 * sessions (its own table or keys), never in a session row, so a Go program sharing the store sees
 * only sessions. Without the group the manager deletes, and in-flight requests of a renewed or
 * destroyed token are not recognised.
 */
export interface EndingStore extends Store {
  end(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined>
  ended(key: string): Promise<EndReason | undefined>
}

/**
 * Capability group `ownerIndex`: an index of sessions by owner beside the sessions.
 * `setOwner(key, owner, previous, device, at)` files `key` under `owner` (created and last seen at
 * `at`, with `device`), taking it out of `previous`'s; an `owner` of `undefined` only takes it out.
 * `listOwned(owner)` resolves that owner's sessions that are live now, in O(sessions of that
 * owner), never one whose row is gone (expired, ended, deleted by any program).
 * `touchOwned(key, owner, at)` moves the last-seen time of `key`, filed under `owner`. Ending or
 * deleting a session takes it out of the index (or `listOwned` skips it).
 */
export interface OwnerIndexStore extends Store {
  setOwner(
    key: string,
    owner: string | undefined,
    previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void>
  listOwned(owner: string): Promise<OwnedSession[]>
  touchOwned(key: string, owner: string, at: Date): Promise<void>
}

/**
 * Capability group `listing` (SCS's IterableStore): `all` resolves key → data for every live row
 * (an empty map when none), for `SessionManager#iterate` and the CLI.
 */
export interface IterableStore extends Store {
  all(): Promise<Map<string, Uint8Array>>
}

/**
 * Capability group `expiryEvents`: the store's own cleanup calls `listener` with the number of
 * expired sessions each sweep removed (stores whose server expires keys itself have none).
 */
export interface ExpiryEventsStore extends Store {
  onExpired(listener: (count: number) => void): void
}

/** The methods of each capability group, which a store implements all together or not at all. */
export const storeCapabilities = {
  touch: ['touch'],
  compareAndSet: ['replace'],
  ending: ['end', 'ended'],
  ownerIndex: ['setOwner', 'listOwned', 'touchOwned'],
  listing: ['all'],
  expiryEvents: ['onExpired'],
} as const satisfies Record<string, readonly string[]>

/** The name of a capability group of {@link storeCapabilities}. */
export type StoreCapability = keyof typeof storeCapabilities

/** A group a store started but did not finish: the methods it has and the ones it lacks. */
export interface PartialCapability {
  capability: StoreCapability
  present: string[]
  missing: string[]
}

/** What a store declares: the groups it implements whole, and any it implements only in part. */
export interface StoreCapabilities {
  has: ReadonlySet<StoreCapability>
  partial: PartialCapability[]
}

const capabilityNames = Object.keys(storeCapabilities) as StoreCapability[]

function hasMethod(store: object, method: string): boolean {
  return typeof (store as Record<string, unknown>)[method] === 'function'
}

/** The capability groups `store` implements, each found by its methods; a group half-implemented is listed in `partial`. */
export function capabilitiesOf(store: Store): StoreCapabilities {
  const has = new Set<StoreCapability>()
  const partial: PartialCapability[] = []
  for (const capability of capabilityNames) {
    const methods: readonly string[] = storeCapabilities[capability]
    const present = methods.filter((m) => hasMethod(store, m))
    if (present.length === methods.length) has.add(capability)
    else if (present.length > 0) {
      partial.push({ capability, present, missing: methods.filter((m) => !hasMethod(store, m)) })
    }
  }
  return { has, partial }
}

function implementsGroup(store: Store, capability: StoreCapability): boolean {
  return storeCapabilities[capability].every((m) => hasMethod(store, m))
}

/** True when `store` implements the `touch` group. */
export function isTouchStore(store: Store): store is TouchStore {
  return implementsGroup(store, 'touch')
}

/** True when `store` implements the `compareAndSet` group. */
export function isCompareAndSetStore(store: Store): store is CompareAndSetStore {
  return implementsGroup(store, 'compareAndSet')
}

/** True when `store` implements the `ending` group (`end` and `ended`). */
export function isEndingStore(store: Store): store is EndingStore {
  return implementsGroup(store, 'ending')
}

/** True when `store` implements the `ownerIndex` group (`setOwner`, `listOwned`, `touchOwned`). */
export function isOwnerIndexStore(store: Store): store is OwnerIndexStore {
  return implementsGroup(store, 'ownerIndex')
}

/** True when `store` implements `all()`, so `SessionManager#iterate` can use it. */
export function isIterableStore(store: Store): store is IterableStore {
  return implementsGroup(store, 'listing')
}

/** True when `store` implements the `expiryEvents` group. */
export function isExpiryEventsStore(store: Store): store is ExpiryEventsStore {
  return implementsGroup(store, 'expiryEvents')
}
