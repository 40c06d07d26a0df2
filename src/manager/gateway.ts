import { SessionError, toStoreError } from '../errors.js'
import type {
  CommitMode,
  CompareAndSetStore,
  DeviceInfo,
  EndingStore,
  EndReason,
  ExpiryEventsStore,
  IterableStore,
  OwnedSession,
  OwnerIndexStore,
  Store,
  TouchStore,
} from '../store.js'
import {
  capabilitiesOf,
  isCompareAndSetStore,
  isEndingStore,
  isExpiryEventsStore,
  isIterableStore,
  isOwnerIndexStore,
  isTouchStore,
  storeCapabilities,
} from '../store.js'

/** What `end` resolves when a store without the ending group deleted a row: something, bytes unknown. */
export const DELETED = new Uint8Array(0)

/**
 * @internal Where the manager meets its store: the capability groups are resolved once here, every
 * store call is wrapped into a `StoreError` naming its operation, and every fallback for a missing
 * group lives here, so nothing else asks what a store can do.
 */
export class StoreGateway {
  readonly store: Store
  readonly #touch: TouchStore | undefined
  readonly #cas: CompareAndSetStore | undefined
  readonly #ending: EndingStore | undefined
  readonly #owners: OwnerIndexStore | undefined
  readonly #listing: IterableStore | undefined
  readonly #expiry: ExpiryEventsStore | undefined

  /** Throws `ERR_OPTIONS` when the store implements a group only in part, naming what it lacks. */
  constructor(store: Store) {
    const { partial } = capabilitiesOf(store)
    const first = partial[0]
    if (first !== undefined) {
      const all = storeCapabilities[first.capability].map((m) => `${m}()`).join(', ')
      throw new SessionError(
        'ERR_OPTIONS',
        `SessionManager: option store implements ${first.present.map((m) => `${m}()`).join(', ')} but not ${first.missing.map((m) => `${m}()`).join(', ')}: the ${first.capability} capability needs ${all} together (docs/api.md, Store capabilities)`,
      )
    }
    this.store = store
    this.#touch = isTouchStore(store) ? store : undefined
    this.#cas = isCompareAndSetStore(store) ? store : undefined
    this.#ending = isEndingStore(store) ? store : undefined
    this.#owners = isOwnerIndexStore(store) ? store : undefined
    this.#listing = isIterableStore(store) ? store : undefined
    this.#expiry = isExpiryEventsStore(store) ? store : undefined
  }

  /** True when an unchanged session's expiry can move without rewriting its data. */
  get touches(): boolean {
    return this.#touch !== undefined
  }

  // The hot calls chain one handler on the store's promise instead of an async wrapper's extra
  // promise and await: a read-only request makes exactly one of them.
  find(key: string): Promise<Uint8Array | undefined> {
    let pending: Promise<Uint8Array | undefined>
    try {
      pending = this.store.find(key)
    } catch (err) {
      return Promise.reject(toStoreError(err, 'find'))
    }
    return pending.then(undefined, failedFind)
  }

  commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean> {
    let pending: Promise<boolean>
    try {
      pending = this.store.commit(key, data, expiry, mode)
    } catch (err) {
      return Promise.reject(toStoreError(err, 'commit'))
    }
    return pending.then(undefined, failedCommit)
  }

  /**
   * Writes a loaded session's new bytes: compare-and-set against `expected` where the store has
   * it (resolving the other bytes when another request wrote first), else a whole-session
   * `'update'`, whose `false` becomes `undefined` (the row is gone).
   */
  write(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined> {
    if (this.#cas === undefined) {
      return this.commit(key, data, expiry, 'update').then(updatedOrGone)
    }
    let pending: Promise<true | Uint8Array | undefined>
    try {
      pending = this.#cas.replace(key, expected, data, expiry)
    } catch (err) {
      return Promise.reject(toStoreError(err, 'commit'))
    }
    return pending.then(undefined, failedCommit)
  }

  /** Moves a row's expiry alone; `false` when the row is gone. Call only when {@link touches}. */
  async touch(key: string, expiry: Date): Promise<boolean> {
    if (this.#touch === undefined) return true
    try {
      return await this.#touch.touch(key, expiry)
    } catch (err) {
      throw toStoreError(err, 'touch')
    }
  }

  /**
   * Ends a session: the store's atomic `end` (remembered until `until`) where it has the ending
   * group, else a plain delete, after which `fallback` (the bytes the caller loaded) is the best it
   * knows. Resolves the bytes the row held, or undefined when it was already gone.
   */
  async end(
    key: string,
    reason: EndReason,
    until: Date,
    fallback: Uint8Array | undefined,
  ): Promise<Uint8Array | undefined> {
    if (this.#ending !== undefined) {
      try {
        return await this.#ending.end(key, reason, until)
      } catch (err) {
        throw toStoreError(err, 'end')
      }
    }
    try {
      await this.store.delete(key)
    } catch (err) {
      throw toStoreError(err, 'delete')
    }
    return fallback
  }

  /** Why `key` was ended, while the store remembers it; undefined without the ending group. */
  async ended(key: string): Promise<EndReason | undefined> {
    if (this.#ending === undefined) return undefined
    try {
      return await this.#ending.ended(key)
    } catch (err) {
      throw toStoreError(err, 'ended')
    }
  }

  async setOwner(
    key: string,
    owner: string | undefined,
    previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void> {
    if (this.#owners === undefined) return
    try {
      await this.#owners.setOwner(key, owner, previous, device, at)
    } catch (err) {
      throw toStoreError(err, 'setOwner')
    }
  }

  async listOwned(owner: string): Promise<OwnedSession[]> {
    if (this.#owners === undefined) return []
    try {
      return await this.#owners.listOwned(owner)
    } catch (err) {
      throw toStoreError(err, 'listOwned')
    }
  }

  async touchOwned(key: string, owner: string, at: Date): Promise<void> {
    if (this.#owners === undefined) return
    try {
      await this.#owners.touchOwned(key, owner, at)
    } catch (err) {
      throw toStoreError(err, 'touchOwned')
    }
  }

  /** Every live row; rejects with `ERR_NOT_ITERABLE` when the store has no listing group. */
  async all(): Promise<Map<string, Uint8Array>> {
    if (this.#listing === undefined) {
      throw new SessionError(
        'ERR_NOT_ITERABLE',
        `${this.store.constructor.name} does not support iteration: it has no all() method`,
      )
    }
    try {
      return await this.#listing.all()
    } catch (err) {
      throw toStoreError(err, 'all')
    }
  }

  /** Subscribes to the store's cleanup counts; a no-op for stores without expiry events. */
  onExpired(listener: (count: number) => void): void {
    this.#expiry?.onExpired(listener)
  }
}

const failedFind = (err: unknown): never => {
  throw toStoreError(err, 'find')
}

const failedCommit = (err: unknown): never => {
  throw toStoreError(err, 'commit')
}

const updatedOrGone = (updated: boolean): true | undefined => (updated ? true : undefined)
