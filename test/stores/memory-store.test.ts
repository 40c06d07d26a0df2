import * as vitest from 'vitest'
import { describe, expect, it, vi } from 'vitest'
import { MemoryStore } from '../../src/index.ts'
import { describeStoreConformance } from '../../src/testing/index.ts'
import { enc } from '../helpers/bytes.ts'

describeStoreConformance(
  vitest,
  'MemoryStore',
  MemoryStore,
  async () => {
    const store = new MemoryStore({ cleanupInterval: 0 })
    return {
      store,
      reset: async () => {
        for (const key of (await store.all()).keys()) await store.delete(key)
        store.deleteExpired()
      },
      close: () => store.close(),
    }
  },
  { sweep: (store) => store.deleteExpired() },
)

describe('MemoryStore (SCS memstore tests)', () => {
  it('finds an item until its expiry and not after it (TestExpiry)', async () => {
    let now = 1_000_000
    const store = new MemoryStore({ cleanupInterval: 0, clock: () => now })
    await store.commit('session_token', enc('encoded_data'), new Date(now + 100))
    expect(await store.find('session_token')).toBeDefined()
    now += 100
    expect(await store.find('session_token')).toBeDefined() // found at equality, as memstore
    now += 1
    expect(await store.find('session_token')).toBeUndefined()
  })

  it('sweeps expired items on its cleanup interval (TestCleanupInterval)', async () => {
    vi.useFakeTimers()
    try {
      let now = 0
      const store = new MemoryStore({ cleanupInterval: 100, clock: () => now })
      await store.commit('session_token', enc('encoded_data'), new Date(500))
      expect(store.size).toBe(1)
      now = 1000
      vi.advanceTimersByTime(100)
      expect(store.size).toBe(0)
      store.stopCleanup()
    } finally {
      vi.useRealTimers()
    }
  })

  it('does not keep the process alive and stops idempotently', () => {
    const store = new MemoryStore()
    store.stopCleanup()
    store.stopCleanup()
    store.close()
    {
      using disposable = new MemoryStore({ cleanupInterval: 10 })
      expect(disposable.size).toBe(0)
    }
  })

  it('rejects a negative cleanup interval with a message naming it', () => {
    expect(() => new MemoryStore({ cleanupInterval: -1 })).toThrow(/cleanupInterval/)
  })
})
