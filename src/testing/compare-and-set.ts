import assert from 'node:assert/strict'
import { type CompareAndSetStore, isCompareAndSetStore, type Store } from '../store.js'
import type { Suite } from './suite.js'
import { enc, inMinutes, past, text } from './support.js'

/** `store` as a CompareAndSetStore; fails the check when the harness store lacks `replace`. */
export function comparing(store: Store): CompareAndSetStore {
  assert.ok(isCompareAndSetStore(store), 'the harness store has no replace()')
  return store
}

/** The store's own checks of the `compareAndSet` group. */
export function compareAndSetChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['compareAndSet'],
    'replace writes only over the expected bytes, and otherwise resolves what is there',
    async (h) => {
      const store = comparing(h.store)
      await store.commit('k', enc('one'), inMinutes(1))
      assert.equal(await store.replace('k', enc('one'), enc('two'), inMinutes(1)), true)
      const other = await store.replace('k', enc('one'), enc('x'), inMinutes(1))
      assert.ok(other instanceof Uint8Array, 'replace over other bytes must resolve those bytes')
      assert.equal(text(other), 'two')
      assert.equal(text(await store.find('k')), 'two', 'replace wrote over bytes it did not expect')
      assert.equal(await store.replace('gone', enc('one'), enc('x'), inMinutes(1)), undefined)
      assert.equal(await store.find('gone'), undefined, 'replace created a missing key')
      await store.commit('old', enc('one'), past())
      assert.equal(await store.replace('old', enc('one'), enc('x'), inMinutes(1)), undefined)
      assert.equal(await store.find('old'), undefined, 'replace brought an expired row back')
    },
  )
}
