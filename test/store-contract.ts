import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { type IterableStore, SessionManager, type Store } from '../src/index.ts'
import { describeStoreOwners } from './store-contract-owners.ts'
import { describeStoreRaces } from './store-contract-races.ts'

/** What a store's test file hands the shared suite. */
export interface StoreHarness {
  store: Store
  /** Empties the backing table, keyspace or map. */
  reset(): Promise<void>
  /** Releases the client; the suite calls it once at the end. */
  close?(): Promise<void> | void
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)

/**
 * The store contract every store passes (see the Store doc comment). Expiry is checked with
 * expiries already in the past, never by sleeping, because SQL and Redis stores judge liveness on
 * the server's own clock.
 */
export function describeStore(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract`, () => {
    let h: StoreHarness
    beforeEach(async () => {
      h ??= await makeHarness()
      await h.reset()
    })
    afterAll(async () => {
      await h?.close?.()
    })

    it('find resolves undefined for an unknown key', async () => {
      expect(await h.store.find('missing_session_token')).toBeUndefined()
    })

    it('commit without a mode inserts a new key and find returns its bytes', async () => {
      expect(await h.store.commit('session_token', enc('encoded_data'), inMinutes(1))).toBe(true)
      expect(text(await h.store.find('session_token'))).toBe('encoded_data')
    })

    it('commit without a mode overwrites data and expiry of an existing key', async () => {
      await h.store.commit('session_token', enc('encoded_data'), inMinutes(-1))
      await h.store.commit('session_token', enc('new_encoded_data'), inMinutes(1))
      expect(text(await h.store.find('session_token'))).toBe('new_encoded_data')
    })

    it('round-trips every byte value unchanged', async () => {
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
      await h.store.commit('binary', bytes, inMinutes(1))
      expect(Array.from((await h.store.find('binary')) ?? [])).toEqual(Array.from(bytes))
    })

    it('find does not return a session whose expiry has passed', async () => {
      await h.store.commit('expired', enc('old'), new Date(Date.now() - 5_000))
      expect(await h.store.find('expired')).toBeUndefined()
    })

    it('delete removes a key, and deleting an unknown key is a no-op', async () => {
      await h.store.commit('session_token', enc('encoded_data'), inMinutes(1))
      await h.store.delete('session_token')
      expect(await h.store.find('session_token')).toBeUndefined()
      await expect(h.store.delete('never_existed')).resolves.toBeUndefined()
    })

    it("commit 'insert' writes a free key and refuses a live one without writing", async () => {
      expect(await h.store.commit('k', enc('first'), inMinutes(1), 'insert')).toBe(true)
      expect(await h.store.commit('k', enc('second'), inMinutes(1), 'insert')).toBe(false)
      expect(text(await h.store.find('k'))).toBe('first')
    })

    it("commit 'update' writes an existing key and refuses a deleted one without writing", async () => {
      await h.store.commit('k', enc('first'), inMinutes(1))
      expect(await h.store.commit('k', enc('second'), inMinutes(1), 'update')).toBe(true)
      expect(text(await h.store.find('k'))).toBe('second')
      await h.store.delete('k')
      expect(await h.store.commit('k', enc('third'), inMinutes(1), 'update')).toBe(false)
      expect(await h.store.find('k')).toBeUndefined()
    })

    it('touch moves the expiry without changing data, and refuses an unknown key', async () => {
      if (h.store.touch === undefined) return
      await h.store.commit('k', enc('kept'), new Date(Date.now() + 2_000))
      expect(await h.store.touch('k', inMinutes(10))).toBe(true)
      expect(text(await h.store.find('k'))).toBe('kept')
      expect(await h.store.touch('k', new Date(Date.now() - 5_000))).toBe(true)
      expect(await h.store.find('k')).toBeUndefined()
      expect(await h.store.touch('unknown', inMinutes(1))).toBe(false)
    })

    it('all() returns live sessions only, keyed by key, and an empty map when there are none', async () => {
      const store = h.store as Partial<IterableStore>
      if (store.all === undefined) return
      expect((await store.all()).size).toBe(0)
      for (let i = 0; i < 4; i++)
        await h.store.commit(`token_${i}`, enc(`token_${i}`), inMinutes(1))
      await h.store.commit('gone', enc('gone'), new Date(Date.now() - 5_000))
      const all = await store.all()
      expect([...all.keys()].sort()).toEqual(['token_0', 'token_1', 'token_2', 'token_3'])
      for (const [k, v] of all) expect(text(v)).toBe(k)
    })

    it('under a SessionManager, a slower request cannot undo a logout, and idle refreshes touch', async () => {
      const manager = new SessionManager<{ n: number }>({ store: h.store, idleTimeout: 60_000 })
      const fresh = await manager.load('')
      fresh.put('n', 1)
      const { token } = await manager.commit(fresh)
      const slow = await manager.load(token)
      expect(slow.get('n')).toBe(1)
      // Unchanged data with an idle timeout: only the expiry moves (touch), and that counts.
      expect((await manager.commit(slow)).committed).toBe(true)
      await (await manager.load(token)).destroy()
      slow.put('n', 2)
      expect((await manager.commit(slow)).committed).toBe(false)
      expect(await h.store.find(token)).toBeUndefined()
    })

    it('keeps keys independent: many concurrent commits each land under their own key', async () => {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => h.store.commit(`c${i}`, enc(`v${i}`), inMinutes(1))),
      )
      const found = await Promise.all(Array.from({ length: 50 }, (_, i) => h.store.find(`c${i}`)))
      expect(found.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`))
    })

    describeStoreRaces(() => h.store)
    describeStoreOwners(() => h.store)
  })
}
