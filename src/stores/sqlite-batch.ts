/** Opens, commits and rolls back the transaction a group of writes shares. */
export interface TransactionControl {
  begin(): void
  commit(): void
  rollback(): void
}

interface Queued {
  run: () => unknown
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
}

/**
 * Groups the SQLite writes made in one event-loop turn into one transaction. The first write of
 * a turn runs at once, so a quiet server pays no extra latency; the writes that follow it in the
 * same turn wait for `setImmediate` and then share one `BEGIN IMMEDIATE … COMMIT`, because each
 * transaction's own cost (the WAL commit) is most of a one-row write. Each caller is resolved with
 * its own result only after the shared COMMIT; when a statement of the group fails, the group is
 * rolled back and rerun one write at a time, so every caller gets its own result or error.
 */
export class WriteGroup {
  readonly #tx: TransactionControl
  #queue: Queued[] = []
  readonly #keys = new Set<string>()
  #turnOpen = false
  #held = false
  readonly #endTurn = (): void => {
    this.#turnOpen = false
    if (!this.#held) this.flush()
  }

  constructor(tx: TransactionControl) {
    this.#tx = tx
  }

  /** Runs `run` now or in the turn's group; resolves with its result once it is committed. */
  write<T>(key: string, run: () => T): Promise<T> {
    if (!this.#turnOpen && !this.#held) {
      this.#turnOpen = true
      setImmediate(this.#endTurn)
      try {
        return Promise.resolve(run())
      } catch (err) {
        return Promise.reject(err)
      }
    }
    this.#keys.add(key)
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject })
    })
  }

  /**
   * Queues every write until `release`, without blocking: the checkpoint thread rewinds the
   * WAL meanwhile. An explicit `flush` (a read of a waiting key, `all`, `close`) still writes.
   */
  hold(): void {
    this.#held = true
  }

  /** Ends a `hold` and writes what queued during it as one group. */
  release(): void {
    if (!this.#held) return
    this.#held = false
    this.flush()
  }

  /** True while a write for `key` waits in the group, so a read of `key` must flush first. */
  pending(key: string): boolean {
    return this.#keys.has(key)
  }

  /** How many writes wait. */
  get size(): number {
    return this.#queue.length
  }

  /** Runs every waiting write now: one alone, several in one transaction. */
  flush(): void {
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    this.#keys.clear()
    if (queue.length === 1) {
      settle(queue[0] as Queued)
      return
    }
    const results: unknown[] = []
    try {
      this.#tx.begin()
    } catch (err) {
      // Without the transaction (a lock held past the busy timeout, a closed store) every write
      // would fail the same way after the same wait, so they all get this error now.
      for (const item of queue) item.reject(err)
      return
    }
    try {
      for (const item of queue) results.push(item.run())
      this.#tx.commit()
    } catch {
      try {
        this.#tx.rollback()
      } catch {
        // SQLite may have rolled back already (a full disk ends the transaction itself).
      }
      for (const item of queue) settle(item)
      return
    }
    for (let i = 0; i < queue.length; i++) (queue[i] as Queued).resolve(results[i])
  }
}

function settle(item: Queued): void {
  try {
    item.resolve(item.run())
  } catch (err) {
    item.reject(err)
  }
}
