import { sameBytes } from './bytes.js'
import type { CommitMode, EndReason, IterableStore } from './store.js'

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

/**
 * An in-process store (SCS memstore): the manager's default, for tests and single-process apps.
 * An entry is found until its expiry has passed; a sweep removes expired entries every minute on
 * an unref'd timer that never keeps the process alive.
 *
 * @example
 * const store = new MemoryStore({ cleanupInterval: 0 })
 */
export class MemoryStore implements IterableStore, Disposable {
  readonly #items = new Map<string, Entry>()
  readonly #ended = new Map<string, Ended>()
  readonly #clock: () => number
  #timer: NodeJS.Timeout | undefined

  constructor(options: MemoryStoreOptions = {}) {
    const interval = options.cleanupInterval ?? 60_000
    if (!Number.isFinite(interval) || interval < 0) {
      throw new RangeError(
        `MemoryStore: cleanupInterval must be a non-negative number of ms, got ${interval}`,
      )
    }
    this.#clock = options.clock ?? Date.now
    if (interval > 0) {
      this.#timer = setInterval(() => this.deleteExpired(), interval)
      this.#timer.unref()
    }
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
    if (entry === undefined) return undefined
    this.#ended.set(key, { reason, until: until.getTime() })
    return entry.data
  }

  async ended(key: string): Promise<EndReason | undefined> {
    const marker = this.#ended.get(key)
    return marker !== undefined && this.#clock() < marker.until ? marker.reason : undefined
  }

  async all(): Promise<Map<string, Uint8Array>> {
    const now = this.#clock()
    const out = new Map<string, Uint8Array>()
    for (const [key, entry] of this.#items) if (entry.expiresAt > now) out.set(key, entry.data)
    return out
  }

  /** Removes every expired entry now; the timer calls this. */
  deleteExpired(): void {
    const now = this.#clock()
    for (const [key, entry] of this.#items) if (now > entry.expiresAt) this.#items.delete(key)
    for (const [key, marker] of this.#ended) if (now >= marker.until) this.#ended.delete(key)
  }

  /** The number of entries held, expired or not. */
  get size(): number {
    return this.#items.size
  }

  /** Stops the sweep; idempotent and never blocks. */
  stopCleanup(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Same as `stopCleanup()`: the store holds no other resource. */
  close(): void {
    this.stopCleanup()
  }

  [Symbol.dispose](): void {
    this.stopCleanup()
  }

  // SCS memstore: found while now <= expiry (strict "now > expiry" means gone).
  #live(key: string): Entry | undefined {
    const entry = this.#items.get(key)
    return entry !== undefined && this.#clock() <= entry.expiresAt ? entry : undefined
  }
}
