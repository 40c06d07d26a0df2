import assert from 'node:assert/strict'
import { isTouchStore, type Store, type TouchStore } from '../store.js'
import type { Suite } from './suite.js'
import { enc, inMinutes, past, text } from './support.js'

/** `store` as a TouchStore; fails the check when the harness store lacks what its type declares. */
export function touching(store: Store): TouchStore {
  assert.ok(isTouchStore(store), 'the harness store has no touch()')
  return store
}

/** The checks of the `touch` group. */
export function touchChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['touch'],
    'moves the expiry without changing data, and refuses an unknown key',
    async (h) => {
      const store = touching(h.store)
      await store.commit('k', enc('kept'), new Date(Date.now() + 2_000))
      assert.equal(await store.touch('k', inMinutes(10)), true)
      assert.equal(text(await store.find('k')), 'kept')
      assert.equal(await store.touch('k', past()), true)
      assert.equal(await store.find('k'), undefined, 'touch to a past expiry left the key findable')
      assert.equal(await store.touch('unknown', inMinutes(1)), false)
    },
  )
}
