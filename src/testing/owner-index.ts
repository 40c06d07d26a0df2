import assert from 'node:assert/strict'
import { isEndingStore, isOwnerIndexStore, type OwnerIndexStore, type Store } from '../store.js'
import type { Suite } from './suite.js'
import { enc, inMinutes, ownerName, past } from './support.js'

/** `store` as an OwnerIndexStore; fails the check when the harness store lacks the owner index. */
export function indexed(store: Store): OwnerIndexStore {
  assert.ok(
    isOwnerIndexStore(store),
    'the harness store has no setOwner(), listOwned(), touchOwned()',
  )
  return store
}

/** The store's own checks of the `ownerIndex` group. */
export function ownerIndexChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['ownerIndex'],
    'lists a live session filed under its owner with its device, and moves lastSeenAt',
    async (h) => {
      const store = indexed(h.store)
      const owner = ownerName()
      const at = new Date(Date.now() - 120_000)
      await store.commit('owned-1', enc('x'), inMinutes(10))
      await store.setOwner(
        'owned-1',
        owner,
        undefined,
        { userAgent: 'Firefox', ip: '10.0.0.1' },
        at,
      )
      const [row, ...rest] = await store.listOwned(owner)
      assert.deepEqual(rest, [])
      assert.ok(row !== undefined, 'listOwned did not list the session filed under its owner')
      assert.deepEqual([row.key, row.userAgent, row.ip], ['owned-1', 'Firefox', '10.0.0.1'])
      assert.equal(row.createdAt.getTime(), at.getTime())
      const off = Math.abs(row.expiresAt.getTime() - inMinutes(10).getTime())
      assert.ok(off < 5_000, `expiresAt is ${off} ms away from the row's expiry`)
      const later = new Date(at.getTime() + 60_000)
      await store.touchOwned('owned-1', owner, later)
      assert.equal((await store.listOwned(owner))[0]?.lastSeenAt.getTime(), later.getTime())
    },
  )

  suite.group(
    ['ownerIndex'],
    'moves a session to a new owner, drops it for none, and never lists a gone one',
    async (h) => {
      const store = indexed(h.store)
      const [a, b] = [ownerName(), ownerName()]
      const now = new Date()
      for (const k of ['m1', 'm2', 'm3', 'm4']) {
        await store.commit(k, enc(k), inMinutes(10))
        await store.setOwner(k, a, undefined, {}, now)
      }
      await store.setOwner('m1', b, a, {}, now)
      await store.setOwner('m2', undefined, a, {}, now)
      await store.delete('m3')
      // Ended where the store can end, deleted where it cannot: gone either way.
      if (isEndingStore(store)) await store.end('m4', 'destroyed', inMinutes(1))
      else await store.delete('m4')
      await store.commit('m5', enc('m5'), inMinutes(10))
      await store.setOwner('m5', a, undefined, {}, now)
      await store.commit('m5', enc('m5'), past())
      assert.deepEqual(
        (await store.listOwned(a)).map((r) => r.key),
        [],
      )
      assert.deepEqual(
        (await store.listOwned(b)).map((r) => r.key),
        ['m1'],
      )
      assert.deepEqual(await store.listOwned(ownerName()), [])
    },
  )
}
