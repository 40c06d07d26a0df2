const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }

/**
 * Synchronous undo steps (a temporary git worktree, a temp folder) that run once, last added
 * first: when `run()` is called, on process exit, and on SIGINT, SIGTERM or SIGHUP, which then
 * end the process with 128 + the signal's number. A `finally` alone misses Ctrl-C.
 */
export class Cleanup {
  readonly #steps: Array<() => void> = []
  readonly #onExit = (): void => this.run()
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.run()
    process.exit(128 + (SIGNALS[signal] ?? 0))
  }

  constructor() {
    process.on('exit', this.#onExit)
    for (const signal of Object.keys(SIGNALS) as NodeJS.Signals[]) {
      process.on(signal, this.#onSignal)
    }
  }

  /** Adds a step; it runs before the steps added earlier. */
  add(step: () => void): void {
    this.#steps.push(step)
  }

  /** Runs every step not yet run, each once; a failing step does not stop the others. */
  run(): void {
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        step()
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`)
      }
    }
  }

  /** Runs the steps and removes the exit and signal handlers. */
  dispose(): void {
    this.run()
    process.off('exit', this.#onExit)
    for (const signal of Object.keys(SIGNALS) as NodeJS.Signals[]) {
      process.off(signal, this.#onSignal)
    }
  }
}
