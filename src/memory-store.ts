import { sameBytes } from './bytes.js'
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
  TouchStore,
} from './store.js'
import { CleanupTimer, cleanupInterval } from './stores/kit/cleanup.js'
import { checkOptionKeys } from './stores/kit/options.js'

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How often expired entries are swept, in ms; 0 disables the sweep. @default 60_000 */
  cleanupInterval?: number
  /** The clock, in ms since the epoch; tests inject one. @default Date.now */
  clock?: () => number
}

interface Entry {
  data: Uint8Array
  expiresAt: number
}

interface Ended {
  reason: EndReason
  until: number
}

interface Owned extends DeviceInfo {
  createdAt: number
  lastSeenAt: number
}

/**
 * An in-process store (SCS memstore): the manager's default, for tests and single-process apps.
 * An entry is found until its expiry has passed; a sweep removes expired entries every minute on
 * an unref'd timer that never keeps the process alive.
 *
 * @example
 * const store = new MemoryStore({ cleanupInterval: 0 })
 */
export class MemoryStore
  implements
    TouchStore,
    CompareAndSetStore,
    EndingStore,
    OwnerIndexStore,
    IterableStore,
    ExpiryEventsStore,
    Disposable
{
  readonly #items = new Map<string, Entry>()
  readonly #ended = new Map<string, Ended>()
  // owner → key → details, and key → owner to find a key's entry.
  readonly #owners = new Map<string, Map<string, Owned>>()
  readonly #ownerOf = new Map<string, string>()
  readonly #clock: () => number
  readonly #cleanup: CleanupTimer

  constructor(options: MemoryStoreOptions = {}) {
    checkOptionKeys('MemoryStore', options, ['cleanupInterval', 'clock'])
    const interval = cleanupInterval('MemoryStore', options.cleanupInterval, 60_000)
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new TypeError('MemoryStore: clock must be a function returning ms since the epoch')
    }
    this.#clock = options.clock ?? Date.now
    this.#cleanup = new CleanupTimer(
      interval,
      () => this.#removeExpired(),
      (err) => console.error('sessionkit: MemoryStore cleanup failed:', err),
    )
  }

  async find(key: string): Promise<Uint8Array | undefined> {
    return this.#live(key)?.data
  }

  async commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean> {
    if (mode !== undefined) {
      const exists = this.#live(key) !== undefined
      if (mode === 'insert' ? exists : !exists) return false
    }
    this.#items.set(key, { data, expiresAt: expiry.getTime() })
    return true
  }

  async delete(key: string): Promise<void> {
    this.#items.delete(key)
    this.#disown(key)
  }

  async touch(key: string, expiry: Date): Promise<boolean> {
    const entry = this.#live(key)
    if (entry === undefined) return false
    entry.expiresAt = expiry.getTime()
    return true
  }

  async replace(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined> {
    const entry = this.#live(key)
    if (entry === undefined) return undefined
    if (!sameBytes(entry.data, expected)) return entry.data
    this.#items.set(key, { data, expiresAt: expiry.getTime() })
    return true
  }

  async end(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined> {
    const entry = this.#live(key)
    this.#items.delete(key)
    this.#disown(key)
    if (entry === undefined) return undefined
    this.#ended.set(key, { reason, until: until.getTime() })
    return entry.data
  }

  async ended(key: string): Promise<EndReason | undefined> {
    const marker = this.#ended.get(key)
    return marker !== undefined && this.#clock() < marker.until ? marker.reason : undefined
  }

  async setOwner(
    key: string,
    owner: string | undefined,
    _previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void> {
    this.#disown(key)
    if (owner === undefined) return
    let keys = this.#owners.get(owner)
    if (keys === undefined) {
      keys = new Map()
      this.#owners.set(owner, keys)
    }
    keys.set(key, { ...device, createdAt: at.getTime(), lastSeenAt: at.getTime() })
    this.#ownerOf.set(key, owner)
  }

  async listOwned(owner: string): Promise<OwnedSession[]> {
    const out: OwnedSession[] = []
    for (const [key, owned] of this.#owners.get(owner) ?? []) {
      const entry = this.#live(key)
      if (entry === undefined) continue
      out.push({
        key,
        createdAt: new Date(owned.createdAt),
        lastSeenAt: new Date(owned.lastSeenAt),
        expiresAt: new Date(entry.expiresAt),
        ...(owned.userAgent === undefined ? {} : { userAgent: owned.userAgent }),
        ...(owned.ip === undefined ? {} : { ip: owned.ip }),
      })
    }
    return out
  }

  async touchOwned(key: string, _owner: string, at: Date): Promise<void> {
    const owner = this.#ownerOf.get(key)
    const owned = owner === undefined ? undefined : this.#owners.get(owner)?.get(key)
    if (owned !== undefined) owned.lastSeenAt = at.getTime()
  }

  async all(): Promise<Map<string, Uint8Array>> {
    const now = this.#clock()
    const out = new Map<string, Uint8Array>()
    for (const [key, entry] of this.#items) if (entry.expiresAt > now) out.set(key, entry.data)
    return out
  }

  /**
   * Removes every expired entry now and returns how many sessions it removed, telling `onExpired`
   * listeners; the timer calls it too.
   */
  deleteExpired(): number {
    // The sweep is synchronous, so the kit hands its count back as it is.
    return this.#cleanup.sweep() as number
  }

  #removeExpired(): number {
    const now = this.#clock()
    let count = 0
    for (const [key, entry] of this.#items) {
      if (now > entry.expiresAt) {
        this.#items.delete(key)
        this.#disown(key)
        count++
      }
    }
    for (const [key, marker] of this.#ended) if (now >= marker.until) this.#ended.delete(key)
    return count
  }

  /** Calls `listener` with the number of expired entries each sweep removed (see `ExpiryEventsStore`). */
  onExpired(listener: (count: number) => void): void {
    this.#cleanup.onExpired(listener)
  }

  /** The number of entries held, expired or not. */
  get size(): number {
    return this.#items.size
  }

  /** Stops the sweep; idempotent, and resolves at once (a sweep here never waits). */
  stopCleanup(): Promise<void> {
    return this.#cleanup.stop()
  }

  /** Same as `stopCleanup()`: the store holds no other resource. */
  close(): void {
    void this.stopCleanup()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #disown(key: string): void {
    const owner = this.#ownerOf.get(key)
    if (owner === undefined) return
    this.#ownerOf.delete(key)
    const keys = this.#owners.get(owner)
    keys?.delete(key)
    if (keys?.size === 0) this.#owners.delete(owner)
  }

  // SCS memstore: found while now <= expiry (strict "now > expiry" means gone).
  #live(key: string): Entry | undefined {
    const entry = this.#items.get(key)
    return entry !== undefined && this.#clock() <= entry.expiresAt ? entry : undefined
  }
}
