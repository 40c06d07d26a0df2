/**
 * The listeners of a store's timed cleanup (`Store#onExpired`): each is called with the number of
 * expired sessions a sweep removed, and one that throws never stops the sweep timer.
 */
export class ExpiredListeners {
  readonly #listeners: Array<(count: number) => void> = []

  add(listener: (count: number) => void): void {
    this.#listeners.push(listener)
  }

  report(count: number): void {
    if (count === 0) return
    for (const listener of this.#listeners) {
      try {
        listener(count)
      } catch {
        // A listener's failure is its own; the cleanup goes on.
      }
    }
  }
}
