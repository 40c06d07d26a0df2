import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CleanupTimer } from '../../src/stores/kit/cleanup.ts'

// A sweep that waits for the test to let it finish, so ticks can fire while it runs.
function heldSweep(count: number) {
  const releases: Array<() => void> = []
  let runs = 0
  const sweep = (): Promise<number> => {
    runs++
    return new Promise((resolve) => releases.push(() => resolve(count)))
  }
  return { sweep, release: () => releases.shift()?.(), runs: () => runs }
}

describe('CleanupTimer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('reports a slow timed sweep once, however many ticks fire while it runs', async () => {
    const held = heldSweep(3)
    const timer = new CleanupTimer(1_000, held.sweep, () => {})
    const counts: number[] = []
    timer.onExpired((count) => counts.push(count))
    vi.advanceTimersByTime(1_000)
    vi.advanceTimersByTime(1_000)
    vi.advanceTimersByTime(1_000)
    expect(held.runs()).toBe(1)
    held.release()
    await timer.stop()
    expect(counts).toEqual([3])
  })

  it('reports a sweep a caller runs, and a call during a sweep joins it without a second report', async () => {
    const held = heldSweep(2)
    const timer = new CleanupTimer(0, held.sweep, () => {})
    const counts: number[] = []
    timer.onExpired((count) => counts.push(count))
    const first = timer.run()
    const joined = timer.run()
    held.release()
    expect(await first).toBe(2)
    expect(await joined).toBe(2)
    expect(held.runs()).toBe(1)
    expect(counts).toEqual([2])
  })

  it('hands a failed timed sweep to onError once and keeps ticking; a caller sees its own failure', async () => {
    let fail = true
    const errors: unknown[] = []
    const timer = new CleanupTimer(
      1_000,
      async () => {
        if (fail) throw new Error('disk full')
        return 1
      },
      (err) => errors.push(err),
    )
    vi.advanceTimersByTime(1_000)
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    await expect(timer.run()).rejects.toThrow('disk full')
    fail = false
    const counts: number[] = []
    timer.onExpired((count) => counts.push(count))
    vi.advanceTimersByTime(1_000)
    await vi.waitFor(() => expect(counts).toEqual([1]))
    expect(errors).toHaveLength(1)
    await timer.stop()
  })

  it('ends a timed sweep at its next batch on stop, and resolves once it has ended', async () => {
    let batches = 0
    let stopped = false
    let resume: (() => void) | undefined
    const timer = new CleanupTimer(
      1_000,
      async (stopping) => {
        for (;;) {
          if (stopping()) {
            stopped = true
            return batches
          }
          batches++
          await new Promise<void>((resolve) => {
            resume = resolve
          })
        }
      },
      () => {},
    )
    vi.advanceTimersByTime(1_000)
    expect(batches).toBe(1)
    const stopping = timer.stop()
    resume?.()
    await stopping
    expect(stopped).toBe(true)
    expect(batches).toBe(1)
  })
})
