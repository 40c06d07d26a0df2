import assert from 'node:assert/strict'
import { type IterableStore, isIterableStore, type Store } from '../store.js'
import type { Suite } from './suite.js'
import { enc, inMinutes, past, text } from './support.js'

/** `store` as an IterableStore; fails the check when the harness store lacks what its type declares. */
export function listing(store: Store): IterableStore {
  assert.ok(isIterableStore(store), 'the harness store has no all()')
  return store
}

/** The checks of the `listing` group. */
export function listingChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['listing'],
    'all() resolves live sessions only, keyed by key, and an empty map when there are none',
    async (h) => {
      const store = listing(h.store)
      assert.equal((await store.all()).size, 0)
      for (let i = 0; i < 4; i++) await store.commit(`token_${i}`, enc(`token_${i}`), inMinutes(1))
      await store.commit('gone', enc('gone'), past())
      const all = await store.all()
      assert.deepEqual([...all.keys()].sort(), ['token_0', 'token_1', 'token_2', 'token_3'])
      for (const [k, v] of all) assert.equal(text(v), k)
    },
  )
}
