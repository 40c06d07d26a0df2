import assert from 'node:assert/strict'
import { SessionManager } from '../session-manager.js'
import type { Store } from '../store.js'
import type { Suite } from './suite.js'
import { ownerName } from './support.js'

type Data = { userId: number | string; n: number }

const HANDLE = /^[A-Za-z0-9_-]{22}$/

/** The owner index under a SessionManager: listOwned, revokeOwned and revoke. */
export function ownerChecks<S extends Store>(suite: Suite<S>): void {
  const manager = (store: Store, hashTokenInStore = false) =>
    new SessionManager<Data>({ store, owner: 'userId', hashTokenInStore })

  async function signIn(sessions: SessionManager<Data>, user: string) {
    const s = await sessions.load('')
    s.put('n', 1)
    await sessions.commit(s)
    // As a sign-in does: a new token, then the owner.
    await s.renewToken()
    s.put('userId', user)
    const { token } = await sessions.commit(s)
    return { token, session: await sessions.load(token) }
  }

  suite.group(
    ['ownerIndex'],
    'under a SessionManager, lists the owner’s sessions by handle, marks the current one, and never shows a token',
    async ({ store }) => {
      for (const hashed of [false, true]) {
        const sessions = manager(store, hashed)
        const user = ownerName()
        const a = await signIn(sessions, user)
        const b = await signIn(sessions, user)
        await signIn(sessions, ownerName())
        const list = await sessions.listOwned(user, { current: b.session })
        assert.equal(list.length, 2)
        assert.equal(list.filter((i) => i.current).length, 1)
        for (const info of list) {
          assert.match(info.id, HANDLE)
          const shown = JSON.stringify(info)
          for (const token of [a.token, b.token]) {
            assert.notEqual(info.id, token)
            assert.ok(!shown.includes(token), 'a SessionInfo shows a token')
          }
        }
      }
    },
  )

  suite.group(
    ['ownerIndex'],
    'under a SessionManager, revokes every other session of the owner: gone at once, in flight refused, the current one stays',
    async ({ store }) => {
      const sessions = manager(store)
      const user = ownerName()
      const mine = await signIn(sessions, user)
      const others = [await signIn(sessions, user), await signIn(sessions, user)]
      const stranger = await signIn(sessions, ownerName())
      const inFlight = await sessions.load(others[0]?.token ?? '')
      assert.equal(await sessions.revokeOwned(user, { except: mine.session }), 2)
      // The revoked browser's next request is a fresh session it may sign in with again.
      for (const other of others) {
        const next = await sessions.load(other.token)
        assert.deepEqual([next.token, next.refused, next.keys()], ['', undefined, []])
      }
      inFlight.put('n', 2)
      assert.equal((await sessions.commit(inFlight)).committed, false)
      assert.equal((await sessions.load(mine.token)).get('userId'), user)
      assert.equal((await sessions.load(stranger.token)).refused, undefined)
      assert.deepEqual(
        (await sessions.listOwned(user)).map((i) => i.current ?? false),
        [false],
      )
      assert.equal(await sessions.revokeOwned(user), 1)
      assert.deepEqual(await sessions.listOwned(user), [])
    },
  )

  suite.group(
    ['ownerIndex'],
    'under a SessionManager, revokes one device by its handle, and resolves false for an unknown one',
    async ({ store }) => {
      const sessions = manager(store)
      const user = ownerName()
      const a = await signIn(sessions, user)
      const b = await signIn(sessions, user)
      const listed = await sessions.listOwned(user, { current: b.session })
      const target = listed.find((i) => !i.current)
      assert.equal(await sessions.revoke(user, target?.id ?? ''), true)
      assert.equal(await sessions.revoke(user, target?.id ?? ''), false)
      assert.equal(await sessions.revoke(ownerName(), 'A'.repeat(22)), false)
      assert.equal((await sessions.load(a.token)).token, '')
      assert.equal((await sessions.listOwned(user)).length, 1)
    },
  )

  suite.group(
    ['ownerIndex'],
    'under a SessionManager, follows the session: a renewed token under its new handle, a changed owner moved, a removed one dropped',
    async ({ store }) => {
      const sessions = manager(store)
      const [user, other] = [ownerName(), ownerName()]
      const first = await signIn(sessions, user)
      const before = (await sessions.listOwned(user))[0]?.id
      await first.session.renewToken()
      const { token } = await sessions.commit(first.session)
      const after = await sessions.listOwned(user)
      assert.equal(after.length, 1)
      assert.notEqual(after[0]?.id, before)
      const moved = await sessions.load(token)
      moved.put('userId', other)
      await sessions.commit(moved)
      assert.deepEqual(await sessions.listOwned(user), [])
      assert.equal((await sessions.listOwned(other)).length, 1)
      const dropped = await sessions.load(token)
      dropped.remove('userId')
      await sessions.commit(dropped)
      assert.deepEqual(await sessions.listOwned(other), [])
      const gone = await sessions.load(token)
      gone.put('userId', other)
      await sessions.commit(gone)
      await gone.destroy()
      assert.deepEqual(await sessions.listOwned(other), [])
    },
  )

  suite.group(
    ['ownerIndex'],
    'under a SessionManager, indexes numeric owners too, and lists nothing for an owner that is not a string or a number',
    async ({ store }) => {
      const sessions = manager(store)
      const s = await sessions.load('')
      const id = Math.floor(Math.random() * 1e9)
      s.put('userId', id)
      await sessions.commit(s)
      assert.equal((await sessions.listOwned(id)).length, 1)
      assert.deepEqual(await sessions.listOwned(Number.NaN), [])
    },
  )
}
