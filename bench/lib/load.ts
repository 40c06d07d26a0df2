import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import { pinToCore } from './cpu.ts'

/** One bounded autocannon run against one URL. */
export interface LoadJob {
  url: string
  path: string
  connections: number
  seconds: number
  /** Cookie header values to rotate through, one per request; none sends no cookie. */
  cookies?: string[] | undefined
}

/** What one run measured: throughput and latency in ms. */
export interface LoadResult {
  rps: number
  p50: number
  p99: number
  total: number
  non2xx: number
  errors: number
}

/**
 * The load generator: a separate node process running autocannon, pinned to `core` when taskset
 * exists, that takes one job at a time.
 */
export class LoadGenerator {
  readonly #child: ChildProcess
  #seq = 0
  readonly #pending = new Map<number, (r: LoadResult | Error) => void>()

  constructor(core: number | undefined) {
    this.#child = fork(new URL('./load-worker.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    if (core !== undefined && this.#child.pid !== undefined) pinToCore(this.#child.pid, core)
    this.#child.on('message', (msg: { id: number; result?: LoadResult; error?: string }) => {
      const done = this.#pending.get(msg.id)
      this.#pending.delete(msg.id)
      done?.(msg.result ?? new Error(msg.error ?? 'load worker failed'))
    })
  }

  /** Runs one job and resolves its result. */
  run(job: LoadJob): Promise<LoadResult> {
    const id = ++this.#seq
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (r) => (r instanceof Error ? reject(r) : resolve(r)))
      this.#child.send({ ...job, id })
    })
  }

  /** Ends the worker process. */
  close(): void {
    this.#child.disconnect()
  }
}
