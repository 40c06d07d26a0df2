import { idleTimeoutOf } from '../session.js'

/** The parts of the manager's options the idle-refresh rule reads. */
export interface IdleRefreshOptions {
  idleTimeout: number
  idleRefresh: number | undefined
  clock: () => number
}

// Bounded: forgetting costs one early refresh per session.
const REMEMBERED = 100_000

/**
 * @internal The idle-timeout rule: a session's expiry is min(deadline, now + idle timeout), and an
 * unchanged session's expiry and cookie move only when they would move by more than `idleRefresh`
 * since this process last moved them (SCS moves them on every request).
 */
export class IdleRefresh {
  readonly #options: IdleRefreshOptions
  readonly #touches: boolean
  readonly #refreshed = new Map<string, number>()

  /** `touches`: the store can move an expiry without rewriting the session. */
  constructor(options: IdleRefreshOptions, touches: boolean) {
    this.#options = options
    this.#touches = touches
  }

  /** The session's idle timeout: its own (`setIdleTimeout`) or the manager's; 0 when off. */
  idleOf(values: ReadonlyMap<string, unknown> | undefined): number {
    return idleTimeoutOf(values, this.#options.idleTimeout)
  }

  /** When the store should consider the session gone: its deadline, or sooner when idle. */
  expiryOf(deadline: number, values?: ReadonlyMap<string, unknown>): number {
    const idle = this.idleOf(values)
    return idle > 0 ? Math.min(deadline, this.#options.clock() + idle) : deadline
  }

  /**
   * True when unchanged data needs no rewrite: without an idle timeout the row's expiry is the
   * deadline inside its data, and with one a touch moves the expiry alone.
   */
  canRefresh(values: ReadonlyMap<string, unknown>): boolean {
    return this.idleOf(values) === 0 || this.#touches
  }

  /** True when a touch is what refreshing this unchanged session takes (an idle timeout on a store that touches). */
  needsTouch(values: ReadonlyMap<string, unknown>): boolean {
    return this.idleOf(values) > 0 && this.#touches
  }

  /** True when this process moved `key`'s expiry within the refresh window. */
  recently(key: string, values: ReadonlyMap<string, unknown>): boolean {
    const idle = this.idleOf(values)
    if (idle === 0) return false
    const last = this.#refreshed.get(key)
    if (last === undefined) return false
    const window = this.#options.idleRefresh ?? Math.min(idle / 10, 60_000)
    return this.#options.clock() - last <= window
  }

  /** Notes that `key`'s expiry and cookie moved now, when the session has an idle timeout. */
  note(key: string, values: ReadonlyMap<string, unknown>): void {
    if (this.idleOf(values) === 0) return
    if (this.#refreshed.size >= REMEMBERED) this.#refreshed.clear()
    this.#refreshed.set(key, this.#options.clock())
  }
}
