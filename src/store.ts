/**
 * How a commit treats an existing row. No mode upserts, as SCS does. `'insert'` writes only when
 * the key is absent (a brand-new token); `'update'` writes only when the key is still there (a
 * session loaded from the store), so a request that finishes after a logout or a token renewal
 * cannot bring the old session back.
 */
export type CommitMode = 'insert' | 'update'

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
 *
 * Keys are opaque strings (a raw token, or its hash under `hashTokenInStore`); data is opaque.
 */
export interface Store {
  find(key: string): Promise<Uint8Array | undefined>
  commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean>
  delete(key: string): Promise<void>
  touch?(key: string, expiry: Date): Promise<boolean>
}

/** A store that can list its live sessions: `all` resolves key → data for every unexpired row (an empty map when none). */
export interface IterableStore extends Store {
  all(): Promise<Map<string, Uint8Array>>
}

/** True when `store` implements `all()`, so `SessionManager#iterate` can use it. */
export function isIterableStore(store: Store): store is IterableStore {
  return typeof (store as Partial<IterableStore>).all === 'function'
}
