import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStore } from '../../../src/index.ts'
import type { TestBody, TestRunner } from '../../../src/testing/index.ts'

interface Registered {
  title: string
  skipped: boolean
  body: TestBody
}

/** A runner that records what the suite registers, so a test can run the bodies itself. */
function recordingRunner() {
  const registered: Registered[] = []
  const afterAll: TestBody[] = []
  const it = Object.assign(
    (title: string, body: TestBody) => registered.push({ title, skipped: false, body }),
    { skip: (title: string, body: TestBody) => registered.push({ title, skipped: true, body }) },
  )
  const runner: TestRunner = {
    describe: (_name, body) => body(),
    it,
    afterAll: (body) => afterAll.push(body),
  }
  return { runner, registered, afterAll }
}

describe('describeStoreConformance registration', () => {
  afterEach(() => {
    vi.doUnmock('../../../src/testing/optional.ts')
    vi.resetModules()
  })

  it('makes no harness while registering, makes it once at the first check, resets it before each and closes it after all', async () => {
    const { describeStoreConformance } = await import('../../../src/testing/index.ts')
    const { runner, registered, afterAll } = recordingRunner()
    const calls = { make: 0, reset: 0, close: 0 }
    describeStoreConformance(runner, 'MemoryStore', MemoryStore, () => {
      calls.make++
      const store = new MemoryStore({ cleanupInterval: 0 })
      return { store, reset: () => void calls.reset++, close: () => void calls.close++ }
    })
    expect(calls).toEqual({ make: 0, reset: 0, close: 0 })
    const [first, second] = registered.filter((r) => !r.skipped)
    await first?.body()
    await second?.body()
    expect(calls).toEqual({ make: 1, reset: 2, close: 0 })
    for (const hook of afterAll) await hook()
    expect(calls).toEqual({ make: 1, reset: 2, close: 1 })
  })

  it('registers the fast-check property as skipped, saying to install fast-check, when it cannot be found', async () => {
    vi.doMock('../../../src/testing/optional.ts', () => ({ installed: () => false }))
    const { describeStoreConformance } = await import('../../../src/testing/index.ts')
    const { runner, registered } = recordingRunner()
    describeStoreConformance(runner, 'MemoryStore', MemoryStore, () => ({
      store: new MemoryStore({ cleanupInterval: 0 }),
      reset: () => {},
    }))
    const property = registered.filter((r) => r.title.includes('every random interleaving'))
    expect(
      property.map((r) => [
        r.skipped,
        r.title.endsWith('(skipped: install fast-check to run this property)'),
      ]),
    ).toEqual([[true, true]])
  })

  it('registers the property as a check when fast-check is installed', async () => {
    const { describeStoreConformance } = await import('../../../src/testing/index.ts')
    const { runner, registered } = recordingRunner()
    describeStoreConformance(runner, 'MemoryStore', MemoryStore, () => ({
      store: new MemoryStore({ cleanupInterval: 0 }),
      reset: () => {},
    }))
    const property = registered.filter((r) => r.title.includes('every random interleaving'))
    expect(property.map((r) => r.skipped)).toEqual([false])
  })
})
