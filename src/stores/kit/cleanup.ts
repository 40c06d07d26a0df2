import { ExpiredListeners } from '../../expired.js'

// Node runs a timer above 2^31-1 ms every 1 ms instead, so such an interval is refused.
const MAX_INTERVAL = 2_147_483_647

/**
 * A store's timer interval option (`name`, by default `cleanupInterval`), or its default: a number
 * of ms from 0 (no timer) to 2^31−1; a RangeError naming the store and the option otherwise.
 */
export function cleanupInterval(
  owner: string,
  value: unknown,
  fallback: number,
  name = 'cleanupInterval',
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_INTERVAL) {
    throw new RangeError(
      `${owner}: ${name} must be a number of ms from 0 to ${MAX_INTERVAL}, got ${String(value)}`,
    )
  }
  return value
}

/**
 * One sweep of a store's expired sessions. It checks `stopping()` between batches and returns
 * early once it is true; it resolves how many sessions it removed.
 */
export type Sweep = (stopping: () => boolean) => number | Promise<number>

/**
 * The cleanup lifecycle every sweeping store shares: an unref'd timer that never keeps the
 * process alive, one sweep at a time (a call while one runs joins it, a tick skips), each sweep's
 * count reported once to `onExpired` listeners, a failed timed sweep handed to `onError` (the
 * timer keeps running), and
 * a `stop()` that ends a timed sweep after its current batch and resolves once no sweep runs.
 */
export class CleanupTimer {
  readonly #sweep: Sweep
  readonly #onError: (err: unknown) => void
  readonly #expired = new ExpiredListeners()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined
  #timed = false
  #stopping = false

  /** Starts the timer when `interval` (validated by {@link cleanupInterval}) is above 0. */
  constructor(interval: number, sweep: Sweep, onError: (err: unknown) => void) {
    this.#sweep = sweep
    this.#onError = onError
    if (interval > 0) {
      this.#timer = setInterval(() => this.#tick(), interval)
      this.#timer.unref()
    }
  }

  /** Runs a sweep now, or joins the one running; resolves how many sessions it removed. */
  run(): Promise<number> {
    const outcome = this.sweep()
    return typeof outcome === 'number' ? Promise.resolve(outcome) : outcome
  }

  /**
   * {@link run} for a store whose sweep is synchronous (in memory): the count as it is, with no
   * promise; an asynchronous sweep's promise otherwise.
   */
  sweep(): number | Promise<number> {
    return this.#running ?? this.#start()
  }

  /** Calls `listener` with the count of each sweep (timed or called) that removed something. */
  onExpired(listener: (count: number) => void): void {
    this.#expired.add(listener)
  }

  /**
   * Stops the timer and asks a sweep the timer started to end after its current batch (a sweep a
   * caller started runs on); idempotent, never rejects, and resolves once no sweep runs.
   */
  stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#timed) this.#stopping = true
    const running = this.#running
    if (running === undefined) return Promise.resolve()
    return running.then(
      () => {},
      () => {},
    )
  }

  // Every sweep reports its count once, when it ends; one that finishes synchronously (in
  // memory) reports at once, as it ran.
  #start(): number | Promise<number> {
    this.#stopping = false
    let outcome: number | Promise<number>
    try {
      outcome = this.#sweep(() => this.#stopping)
    } catch (err) {
      this.#timed = false
      return Promise.reject(err)
    }
    if (typeof outcome === 'number') {
      this.#timed = false
      this.#expired.report(outcome)
      return outcome
    }
    const running = outcome
      .then((count) => {
        this.#expired.report(count)
        return count
      })
      .finally(() => {
        this.#running = undefined
        this.#timed = false
      })
    this.#running = running
    return running
  }

  #tick(): void {
    // A sweep still running (the last tick's, or one a caller started) reports itself.
    if (this.#running !== undefined) return
    this.#timed = true
    const outcome = this.#start()
    if (typeof outcome !== 'number') outcome.catch((err: unknown) => this.#fail(err))
  }

  #fail(err: unknown): void {
    try {
      this.#onError(err)
    } catch {
      // A throwing error handler must not take the timer, or the process, down with it.
    }
  }
}
