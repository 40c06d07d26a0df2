import assert from 'node:assert/strict'
import { isExpiryEventsStore, type Store } from '../store.js'
import type { Suite } from './suite.js'
import { enc, inMinutes, past } from './support.js'

const TITLE =
  'expiryEvents: a sweep removes expired sessions and tells onExpired listeners how many'

/** The check of the `expiryEvents` group, which needs the caller's `sweep` option to run a sweep. */
export function expiryEventChecks<S extends Store>(suite: Suite<S>): void {
  const sweep = suite.options.sweep
  if (suite.groups.has('expiryEvents') && sweep === undefined) {
    suite.skip(TITLE, `no sweep option was given to run ${suite.name}'s cleanup`)
    return
  }
  suite.group(['expiryEvents'], TITLE.slice('expiryEvents: '.length), async (h) => {
    const store = h.store
    assert.ok(isExpiryEventsStore(store), 'the harness store has no onExpired()')
    const counts: number[] = []
    store.onExpired((count) => counts.push(count))
    await store.commit('gone-1', enc('x'), past())
    await store.commit('gone-2', enc('x'), past())
    await store.commit('live', enc('x'), inMinutes(10))
    await sweep?.(store)
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      2,
      `listeners heard ${JSON.stringify(counts)} for a sweep of 2 expired sessions`,
    )
    assert.notEqual(await store.find('live'), undefined, 'the sweep removed a live session')
  })
}
