import assert from 'node:assert/strict'
import { type EndingStore, isEndingStore, type Store } from '../store.js'
import type { Suite } from './suite.js'
import { enc, inMinutes, past, text } from './support.js'

/** `store` as an EndingStore; fails the check when the harness store lacks `end` or `ended`. */
export function ending(store: Store): EndingStore {
  assert.ok(isEndingStore(store), 'the harness store has no end() and ended()')
  return store
}

/** The store's own checks of the `ending` group. */
export function endingChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['ending'],
    'end removes a live row, resolves its bytes and remembers why; a missing row is not remembered',
    async (h) => {
      const store = ending(h.store)
      await store.commit('k', enc('held'), inMinutes(1))
      assert.equal(text(await store.end('k', 'renewed', inMinutes(1))), 'held')
      assert.equal(await store.find('k'), undefined)
      assert.equal(await store.ended('k'), 'renewed')
      assert.equal(await store.end('k', 'destroyed', inMinutes(1)), undefined)
      assert.equal(await store.ended('k'), 'renewed', 'a second end overwrote the first reason')
      assert.equal(await store.end('never', 'destroyed', inMinutes(1)), undefined)
      assert.equal(await store.ended('never'), undefined)
      // What end remembers is not a session: no commit mode sees it as a live row.
      assert.equal(await store.commit('k', enc('again'), inMinutes(1), 'insert'), true)
    },
  )

  suite.group(['ending'], 'forgets an ended key once its memory has passed', async (h) => {
    const store = ending(h.store)
    await store.commit('k', enc('held'), inMinutes(1))
    await store.end('k', 'destroyed', past())
    assert.equal(await store.ended('k'), undefined)
  })
}
