import assert from 'node:assert/strict'
import { jsonCodec } from '../codec.js'
import { SessionManager } from '../session-manager.js'
import { isIterableStore, type Store } from '../store.js'
import type { Suite } from './suite.js'
import { type Data, inMinutes, plain, seeded, text } from './support.js'

const manager = (store: Store, options: { endedTokenTtl?: number } = {}) =>
  new SessionManager<Data>({ store, ...options })

/**
 * Overlapping requests under a SessionManager, with the interleavings spelled out: each `await` is
 * one request's step, and nothing sleeps. Merging needs `compareAndSet`; knowing that a token was
 * renewed or destroyed elsewhere needs `ending`.
 */
export function raceChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['compareAndSet'],
    'keeps both keys when two overlapping requests put different keys',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { n: 0 })
      const a = await sessions.load(token)
      const b = await sessions.load(token)
      a.put('a', 1)
      b.put('b', 2)
      assert.equal((await sessions.commit(a)).committed, true)
      assert.equal((await sessions.commit(b)).committed, true)
      assert.deepEqual(plain(await sessions.load(token)), { n: 0, a: 1, b: 2 })
    },
  )

  suite.group(
    ['compareAndSet'],
    'lets the later commit win when both put the same key, and keeps a remove',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { n: 0, x: 9 })
      const a = await sessions.load(token)
      const b = await sessions.load(token)
      b.put('n', 2)
      a.put('n', 1)
      a.remove('x')
      await sessions.commit(b)
      await sessions.commit(a)
      assert.deepEqual(plain(await sessions.load(token)), { n: 1 })
    },
  )

  suite.group(
    ['compareAndSet'],
    'lets clear() remove the keys its request saw, never keys another request added meanwhile',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { n: 0 })
      const early = await sessions.load(token)
      const clearer = await sessions.load(token)
      const late = await sessions.load(token)
      early.put('early', 1)
      clearer.clear()
      clearer.put('mine', 2)
      late.put('late', 3)
      await sessions.commit(early)
      await sessions.commit(clearer)
      await sessions.commit(late)
      assert.deepEqual(plain(await sessions.load(token)), { early: 1, mine: 2, late: 3 })
    },
  )

  suite.group(
    ['compareAndSet'],
    "keeps a request's setDeadline and the other request's keys",
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { n: 0 })
      const a = await sessions.load(token)
      const b = await sessions.load(token)
      const deadline = new Date(Date.now() + 10 * 60_000)
      a.setDeadline(deadline)
      b.put('b', 1)
      await sessions.commit(a)
      await sessions.commit(b)
      const after = await sessions.load(token)
      assert.equal(after.deadline.getTime(), deadline.getTime())
      assert.deepEqual(plain(after), { n: 0, b: 1 })
    },
  )

  suite.group(
    ['compareAndSet'],
    'merges onto a row another program overwrote whole (a Go sqlite3store REPLACE INTO)',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { n: 0 })
      const a = await sessions.load(token)
      // Another program upserts the whole session, without a mode, as Go's stores do.
      const whole = jsonCodec.encode(a.deadline, new Map([['go', 7]]))
      await store.commit(token, whole, inMinutes(60))
      a.put('a', 1)
      assert.equal((await sessions.commit(a)).committed, true)
      assert.deepEqual(plain(await sessions.load(token)), { go: 7, a: 1 })
    },
  )

  suite.group(
    ['compareAndSet', 'ending'],
    'renewToken carries what other requests stored meanwhile to the new token',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { user: 1 })
      const signIn = await sessions.load(token)
      const other = await sessions.load(token)
      other.put('csrf', 5)
      await sessions.commit(other)
      await signIn.renewToken()
      signIn.put('admin', 1)
      const { token: renewed } = await sessions.commit(signIn)
      assert.deepEqual(plain(await sessions.load(renewed)), { user: 1, csrf: 5, admin: 1 })
    },
  )

  endedChecks(suite)
}

/** A session renewed or destroyed by one request stays so, whatever a slower one does. */
function endedChecks<S extends Store>(suite: Suite<S>): void {
  suite.group(
    ['ending'],
    'refuses the commit of a request that loaded the session before a logout, with no cookie and an event',
    async ({ store }) => {
      const sessions = manager(store)
      const refused: string[] = []
      sessions.on('refused', ({ reason }) => refused.push(reason))
      const token = await seeded(sessions, { user: 1 })
      const slow = await sessions.load(token)
      await (await sessions.load(token)).destroy()
      slow.put('cart', 3)
      assert.equal(await sessions.commitResponse(slow), undefined)
      assert.equal(slow.refused, 'destroyed')
      assert.deepEqual(refused, ['destroyed'])
      assert.equal(await store.find(token), undefined)
    },
  )

  suite.group(
    ['ending'],
    'leaves renewToken after a logout with an empty, refused session and no row anywhere',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { user: 1 })
      const slow = await sessions.load(token)
      await (await sessions.load(token)).destroy()
      await slow.renewToken()
      assert.deepEqual(slow.keys(), [])
      assert.equal(slow.refused, 'destroyed')
      slow.put('user', 2)
      assert.equal((await sessions.commit(slow)).committed, false)
      assert.equal(await sessions.commitResponse(slow), undefined)
      // Where the store can list its rows, none of them holds the refused data.
      if (isIterableStore(store)) {
        for (const data of (await store.all()).values()) {
          assert.ok(!text(data)?.includes('"user"'), 'a refused session was written')
        }
      }
    },
  )

  suite.group(
    ['ending'],
    'gives a request that arrives with the old token after a sign-in an empty session and no Set-Cookie',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { visits: 1 })
      const inFlight = await sessions.load(token)
      const signIn = await sessions.load(token)
      await signIn.renewToken()
      signIn.put('user', 42)
      const { token: renewed } = await sessions.commit(signIn)
      // Loaded before the renewal: its write is refused.
      inFlight.put('csrf', 1)
      assert.equal(await sessions.commitResponse(inFlight), undefined)
      assert.equal(inFlight.refused, 'renewed')
      // Arrives after it: it sees nothing of the signed-in session and sets no cookie.
      const late = await sessions.load(token)
      assert.equal(late.refused, 'renewed')
      assert.deepEqual(late.keys(), [])
      late.put('flash', 1)
      assert.equal(await sessions.commitResponse(late), undefined)
      assert.deepEqual(plain(await sessions.load(renewed)), { visits: 1, user: 42 })
    },
  )

  suite.group(
    ['ending'],
    'sends no deletion cookie for a logout of a token that was renewed meanwhile',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { user: 1 })
      const logout = await sessions.load(token)
      const signIn = await sessions.load(token)
      await signIn.renewToken()
      const { token: renewed } = await sessions.commit(signIn)
      await logout.destroy()
      assert.equal(logout.refused, 'renewed')
      assert.equal(await sessions.commitResponse(logout), undefined)
      assert.deepEqual(plain(await sessions.load(renewed)), { user: 1 })
    },
  )

  suite.check(
    'under a SessionManager, refuses a mergeSession into a session destroyed meanwhile',
    async ({ store }) => {
      const sessions = manager(store)
      const token = await seeded(sessions, { user: 1 })
      const otherToken = await seeded(sessions, { other: 2 })
      const slow = await sessions.load(token)
      await (await sessions.load(token)).destroy()
      await slow.mergeSession(otherToken)
      assert.equal((await sessions.commit(slow)).committed, false)
      assert.equal(await store.find(token), undefined)
    },
  )

  suite.check(
    'under a SessionManager with endedTokenTtl: 0, a late request with an ended token starts a fresh session',
    async ({ store }) => {
      const sessions = manager(store, { endedTokenTtl: 0 })
      const token = await seeded(sessions, { user: 1 })
      await (await sessions.load(token)).destroy()
      const late = await sessions.load(token)
      assert.equal(late.refused, undefined)
      late.put('n', 1)
      assert.equal((await sessions.commit(late)).committed, true)
    },
  )
}
