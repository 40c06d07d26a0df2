/** Opens, commits and rolls back the transaction a group of writes shares. */
export interface TransactionControl {
  begin(): void
  commit(): void
  rollback(): void
}

/** How a group waits for another connection's write lock: asynchronously, up to a budget. */
export interface LockWait {
  /** How long a write may wait for the lock, in ms; 0 fails at once with the driver's error. */
  busyTimeout: number
  /** True for the driver's "database is locked" error (SQLITE_BUSY). */
  isBusy(err: unknown): boolean
}

interface Queued {
  key: string
  run: () => unknown
  resolve: (value: unknown) => void
  reject: (reason: unknown) => void
  /** When this write stops waiting for a lock (performance.now() ms). */
  deadline: number
}

// Between tries for a lock held elsewhere: 1, 2, 4, 8 ms, then every 10 ms, so a write goes
// through within about 10 ms of the lock coming free while a failed try costs microseconds.
const MAX_RETRY_MS = 10

/**
 * Groups the SQLite writes made in one event-loop turn into one transaction. The first write of
 * a turn runs at once, so a quiet server pays no extra latency; the writes that follow it in the
 * same turn wait for `setImmediate` and then share one `BEGIN IMMEDIATE … COMMIT`, because each
 * transaction's own cost (the WAL commit) is most of a one-row write. Each caller is resolved with
 * its own result only after the shared COMMIT; when a statement of the group fails, the group is
 * rolled back and rerun one write at a time, so every caller gets its own result or error.
 *
 * When another connection holds the write lock, the writes wait on timers, never on the event
 * loop: they are tried again every few ms, in order, until each one's `busyTimeout` runs out, and
 * only then reject with the driver's SQLITE_BUSY. Reads meanwhile run as usual.
 */
export class WriteGroup {
  readonly #tx: TransactionControl
  readonly #wait: LockWait
  #queue: Queued[] = []
  readonly #keys = new Map<string, number>()
  #turnOpen = false
  #held = false
  #retry: NodeJS.Timeout | undefined
  #backoff = 1
  readonly #endTurn = (): void => {
    this.#turnOpen = false
    if (!this.#held && this.#retry === undefined) this.flush()
  }
  readonly #retryNow = (): void => {
    this.#retry = undefined
    if (!this.#held) this.flush()
  }

  constructor(tx: TransactionControl, wait: LockWait = { busyTimeout: 0, isBusy: () => false }) {
    this.#tx = tx
    this.#wait = wait
  }

  /** Runs `run` now or in the turn's group; resolves with its result once it is committed. */
  write<T>(key: string, run: () => T): Promise<T> {
    if (!this.#turnOpen && !this.#held && this.#retry === undefined && this.#queue.length === 0) {
      this.#turnOpen = true
      setImmediate(this.#endTurn)
      try {
        return Promise.resolve(run())
      } catch (err) {
        if (!this.#waitsFor(err)) return Promise.reject(err)
        const waiting = this.#enqueue<T>(key, run)
        this.#scheduleRetry()
        return waiting
      }
    }
    return this.#enqueue(key, run)
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
    if (this.#retry === undefined) this.flush()
  }

  /** True while a write for `key` waits in the group, so a read of `key` must flush first. */
  pending(key: string): boolean {
    return this.#keys.has(key)
  }

  /** How many writes wait. */
  get size(): number {
    return this.#queue.length
  }

  /**
   * Runs every waiting write now: one alone, several in one transaction. Writes that meet
   * another connection's lock stay queued and are tried again shortly.
   */
  flush(): void {
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    this.#keys.clear()
    if (queue.length === 1) {
      const item = queue[0] as Queued
      try {
        item.resolve(item.run())
      } catch (err) {
        if (this.#waitsFor(err)) {
          this.#requeue([item], err)
          return
        }
        item.reject(err)
      }
      this.#settled()
      return
    }
    try {
      this.#tx.begin()
    } catch (err) {
      if (this.#waitsFor(err)) {
        this.#requeue(queue, err)
        return
      }
      // Without the transaction (a closed store, a read-only file) every write would fail the
      // same way, so they all get this error now.
      for (const item of queue) item.reject(err)
      return
    }
    const results: unknown[] = []
    try {
      for (const item of queue) results.push(item.run())
      this.#tx.commit()
    } catch {
      try {
        this.#tx.rollback()
      } catch {
        // SQLite may have rolled back already (a full disk ends the transaction itself).
      }
      const busy: Queued[] = []
      let busyError: unknown
      for (const item of queue) {
        try {
          item.resolve(item.run())
        } catch (err) {
          if (this.#waitsFor(err)) {
            busy.push(item)
            busyError = err
          } else item.reject(err)
        }
      }
      if (busy.length > 0) this.#requeue(busy, busyError)
      else this.#settled()
      return
    }
    for (let i = 0; i < queue.length; i++) (queue[i] as Queued).resolve(results[i])
    this.#settled()
  }

  /** Rejects every waiting write with `reason` (the store is closing); nothing more will run. */
  abandon(reason: unknown): void {
    clearTimeout(this.#retry)
    this.#retry = undefined
    const queue = this.#queue
    this.#queue = []
    this.#keys.clear()
    for (const item of queue) item.reject(reason)
  }

  #enqueue<T>(key: string, run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#push({
        key,
        run,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline: performance.now() + this.#wait.busyTimeout,
      })
    })
  }

  #push(item: Queued): void {
    this.#queue.push(item)
    this.#keys.set(item.key, (this.#keys.get(item.key) ?? 0) + 1)
  }

  #waitsFor(err: unknown): boolean {
    return this.#wait.busyTimeout > 0 && this.#wait.isBusy(err)
  }

  // Writes that met the lock go back to the front, ahead of any queued since, keeping order;
  // those whose wait has run out get the lock error now.
  #requeue(items: Queued[], err: unknown): void {
    const later = this.#queue
    this.#queue = []
    this.#keys.clear()
    const now = performance.now()
    for (const item of items) {
      if (now >= item.deadline) item.reject(err)
      else this.#push(item)
    }
    for (const item of later) this.#push(item)
    this.#scheduleRetry()
  }

  #scheduleRetry(): void {
    if (this.#retry !== undefined || this.#queue.length === 0) return
    // Ref'd on purpose: a write someone awaits must not be dropped by the process exiting.
    this.#retry = setTimeout(this.#retryNow, this.#backoff)
    this.#backoff = Math.min(this.#backoff * 2, MAX_RETRY_MS)
  }

  #settled(): void {
    this.#backoff = 1
    if (this.#queue.length > 0) this.#scheduleRetry()
  }
}
