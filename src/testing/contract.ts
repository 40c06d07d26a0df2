import assert from 'node:assert/strict'
import { SessionManager } from '../session-manager.js'
import { capabilitiesOf, type Store } from '../store.js'
import { describePartial, type Suite } from './suite.js'
import { enc, inMinutes, past, text } from './support.js'

/** The checks of the required contract (`find`, `commit`, `delete`), which every store passes. */
export function contractChecks<S extends Store>(suite: Suite<S>): void {
  suite.check('capabilities: implements each group it starts whole', async (h) => {
    for (const [what, store] of [
      ['its declared type', suite.declared],
      ['the harness store', h.store],
    ] as const) {
      const [first] = capabilitiesOf(store).partial
      if (first !== undefined) {
        assert.fail(
          `${suite.name} (${what}) ${describePartial(first)}: the ${first.capability} group's methods come together, and a SessionManager refuses the store (docs/api.md, Store capabilities)`,
        )
      }
    }
    assert.deepEqual(
      [...capabilitiesOf(h.store).has].sort(),
      [...suite.groups].sort(),
      `the harness store's capability groups differ from those ${suite.name}'s declared type has`,
    )
  })

  suite.check('find resolves undefined for an unknown key', async ({ store }) => {
    assert.equal(await store.find('missing_session_token'), undefined)
  })

  suite.check('commit without a mode inserts a new key and find returns its bytes', async (h) => {
    assert.equal(await h.store.commit('session_token', enc('encoded_data'), inMinutes(1)), true)
    assert.equal(text(await h.store.find('session_token')), 'encoded_data')
  })

  suite.check('commit without a mode overwrites data and expiry of an existing key', async (h) => {
    await h.store.commit('session_token', enc('encoded_data'), inMinutes(-1))
    await h.store.commit('session_token', enc('new_encoded_data'), inMinutes(1))
    assert.equal(text(await h.store.find('session_token')), 'new_encoded_data')
  })

  suite.check('round-trips every byte value unchanged', async ({ store }) => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
    await store.commit('binary', bytes, inMinutes(1))
    assert.deepEqual(Array.from((await store.find('binary')) ?? []), Array.from(bytes))
  })

  suite.check('find does not return a session whose expiry has passed', async ({ store }) => {
    await store.commit('expired', enc('old'), past())
    assert.equal(await store.find('expired'), undefined)
  })

  suite.check('delete removes a key, and deleting an unknown key is a no-op', async ({ store }) => {
    await store.commit('session_token', enc('encoded_data'), inMinutes(1))
    await store.delete('session_token')
    assert.equal(await store.find('session_token'), undefined)
    assert.equal(await store.delete('never_existed'), undefined)
  })

  suite.check(
    "commit 'insert' writes a free key and refuses a live one without writing",
    async ({ store }) => {
      assert.equal(await store.commit('k', enc('first'), inMinutes(1), 'insert'), true)
      assert.equal(await store.commit('k', enc('second'), inMinutes(1), 'insert'), false)
      assert.equal(text(await store.find('k')), 'first', "commit 'insert' overwrote a live row")
    },
  )

  suite.check(
    "commit 'update' writes an existing key and refuses a deleted one without writing",
    async ({ store }) => {
      await store.commit('k', enc('first'), inMinutes(1))
      assert.equal(await store.commit('k', enc('second'), inMinutes(1), 'update'), true)
      assert.equal(text(await store.find('k')), 'second')
      await store.delete('k')
      assert.equal(await store.commit('k', enc('third'), inMinutes(1), 'update'), false)
      assert.equal(await store.find('k'), undefined, "commit 'update' wrote a deleted key")
    },
  )

  suite.check(
    'keeps keys independent: many concurrent commits each land under their own key',
    async ({ store }) => {
      const keys = Array.from({ length: 50 }, (_, i) => i)
      await Promise.all(keys.map((i) => store.commit(`c${i}`, enc(`v${i}`), inMinutes(1))))
      const found = await Promise.all(keys.map((i) => store.find(`c${i}`)))
      assert.deepEqual(
        found.map(text),
        keys.map((i) => `v${i}`),
      )
    },
  )

  suite.check(
    'under a SessionManager, a slower request cannot undo a logout, and an idle refresh counts as a commit',
    async ({ store }) => {
      const manager = new SessionManager<{ n: number }>({ store, idleTimeout: 60_000 })
      const fresh = await manager.load('')
      fresh.put('n', 1)
      const { token } = await manager.commit(fresh)
      const slow = await manager.load(token)
      assert.equal(slow.get('n'), 1)
      // Unchanged data with an idle timeout: only the expiry moves (touch, or a rewrite without it).
      assert.equal((await manager.commit(slow)).committed, true)
      await (await manager.load(token)).destroy()
      slow.put('n', 2)
      assert.equal((await manager.commit(slow)).committed, false, 'a logged-out session came back')
      assert.equal(await store.find(token), undefined)
    },
  )
}
