import { describe, expect, it } from 'vitest'
import { SessionManager, type Store } from '../src/index.ts'

type Data = { userId: number | string; n: number }

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)
// Owners unique to each run, so stores shared across test files never mix them.
let run = 0
const ownerName = () => `owner-${process.pid}-${Date.now()}-${run++}`

/**
 * The owner-index half of the store contract: the store's own setOwner/listOwned/touchOwned,
 * then listOwned, revokeOwned and revoke under a SessionManager. Skipped for a store without
 * an owner index.
 */
export function describeStoreOwners(store: () => Store): void {
  const indexed = () => store().listOwned !== undefined

  describe('owner index', () => {
    it('lists a live session filed under its owner with its device, and moves lastSeenAt', async () => {
      if (!indexed()) return
      const s = store()
      const owner = ownerName()
      const at = new Date(Date.now() - 120_000)
      await s.commit('owned-1', enc('x'), inMinutes(10))
      await s.setOwner?.('owned-1', owner, undefined, { userAgent: 'Firefox', ip: '10.0.0.1' }, at)
      const [row, ...rest] = (await s.listOwned?.(owner)) ?? []
      expect(rest).toEqual([])
      expect(row).toMatchObject({ key: 'owned-1', userAgent: 'Firefox', ip: '10.0.0.1' })
      expect(row?.createdAt.getTime()).toBe(at.getTime())
      expect(Math.abs((row?.expiresAt.getTime() ?? 0) - inMinutes(10).getTime())).toBeLessThan(
        5_000,
      )
      const later = new Date(at.getTime() + 60_000)
      await s.touchOwned?.('owned-1', owner, later)
      expect((await s.listOwned?.(owner))?.[0]?.lastSeenAt.getTime()).toBe(later.getTime())
    })

    it('moves a session to a new owner, drops it for none, and never lists a gone one', async () => {
      if (!indexed()) return
      const s = store()
      const [a, b] = [ownerName(), ownerName()]
      const now = new Date()
      for (const k of ['m1', 'm2', 'm3', 'm4']) {
        await s.commit(k, enc(k), inMinutes(10))
        await s.setOwner?.(k, a, undefined, {}, now)
      }
      await s.setOwner?.('m1', b, a, {}, now)
      await s.setOwner?.('m2', undefined, a, {}, now)
      await s.delete('m3')
      await s.end?.('m4', 'destroyed', inMinutes(1))
      await s.commit('m5', enc('m5'), inMinutes(10))
      await s.setOwner?.('m5', a, undefined, {}, now)
      await s.commit('m5', enc('m5'), new Date(Date.now() - 5_000))
      expect(((await s.listOwned?.(a)) ?? []).map((r) => r.key)).toEqual([])
      expect(((await s.listOwned?.(b)) ?? []).map((r) => r.key)).toEqual(['m1'])
      expect(await s.listOwned?.(ownerName())).toEqual([])
    })
  })

  describe('sessions of an owner under a SessionManager', () => {
    const manager = (hashTokenInStore = false) =>
      new SessionManager<Data>({ store: store(), owner: 'userId', hashTokenInStore })

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

    it('lists the owner’s sessions by handle, marks the current one, and never shows a token', async () => {
      for (const hashed of [false, true]) {
        const sessions = manager(hashed)
        const user = ownerName()
        const a = await signIn(sessions, user)
        const b = await signIn(sessions, user)
        await signIn(sessions, ownerName())
        const list = await sessions.listOwned(user, { current: b.session })
        expect(list).toHaveLength(2)
        expect(list.filter((i) => i.current).length).toBe(1)
        for (const info of list) {
          expect(info.id).toMatch(/^[A-Za-z0-9_-]{22}$/)
          expect([a.token, b.token]).not.toContain(info.id)
          expect(JSON.stringify(info)).not.toContain(a.token)
          expect(JSON.stringify(info)).not.toContain(b.token)
        }
      }
    })

    it('revokes every other session of the owner: gone at once, in flight refused, the current one stays', async () => {
      const sessions = manager()
      const user = ownerName()
      const mine = await signIn(sessions, user)
      const others = [await signIn(sessions, user), await signIn(sessions, user)]
      const stranger = await signIn(sessions, ownerName())
      const inFlight = await sessions.load(others[0]?.token ?? '')
      expect(await sessions.revokeOwned(user, { except: mine.session })).toBe(2)
      // The revoked browser's next request is a fresh session it may sign in with again.
      for (const other of others) {
        const next = await sessions.load(other.token)
        expect([next.token, next.refused, next.keys()]).toEqual(['', undefined, []])
      }
      inFlight.put('n', 2)
      expect((await sessions.commit(inFlight)).committed).toBe(false)
      expect((await sessions.load(mine.token)).get('userId')).toBe(user)
      expect((await sessions.load(stranger.token)).refused).toBeUndefined()
      expect((await sessions.listOwned(user)).map((i) => i.current ?? false)).toEqual([false])
      expect(await sessions.revokeOwned(user)).toBe(1)
      expect(await sessions.listOwned(user)).toEqual([])
    })

    it('revokes one device by its handle, and resolves false for an unknown one', async () => {
      const sessions = manager()
      const user = ownerName()
      const a = await signIn(sessions, user)
      const b = await signIn(sessions, user)
      const target = (await sessions.listOwned(user, { current: b.session })).find(
        (i) => !i.current,
      )
      expect(await sessions.revoke(user, target?.id ?? '')).toBe(true)
      expect(await sessions.revoke(user, target?.id ?? '')).toBe(false)
      expect(await sessions.revoke(ownerName(), 'A'.repeat(22))).toBe(false)
      expect((await sessions.load(a.token)).token).toBe('')
      expect((await sessions.listOwned(user)).length).toBe(1)
    })

    it('follows the session: a renewed token under its new handle, a changed owner moved, a removed one dropped', async () => {
      const sessions = manager()
      const [user, other] = [ownerName(), ownerName()]
      const first = await signIn(sessions, user)
      const before = (await sessions.listOwned(user))[0]?.id
      await first.session.renewToken()
      const { token } = await sessions.commit(first.session)
      const after = await sessions.listOwned(user)
      expect(after).toHaveLength(1)
      expect(after[0]?.id).not.toBe(before)
      const moved = await sessions.load(token)
      moved.put('userId', other)
      await sessions.commit(moved)
      expect(await sessions.listOwned(user)).toEqual([])
      expect(await sessions.listOwned(other)).toHaveLength(1)
      const dropped = await sessions.load(token)
      dropped.remove('userId')
      await sessions.commit(dropped)
      expect(await sessions.listOwned(other)).toEqual([])
      const gone = await sessions.load(token)
      gone.put('userId', other)
      await sessions.commit(gone)
      await gone.destroy()
      expect(await sessions.listOwned(other)).toEqual([])
    })

    it('indexes numeric owners too, and lists nothing for an owner that is not a string or a number', async () => {
      const sessions = manager()
      const s = await sessions.load('')
      const id = Math.floor(Math.random() * 1e9)
      s.put('userId', id)
      await sessions.commit(s)
      expect(await sessions.listOwned(id)).toHaveLength(1)
      expect(await sessions.listOwned(Number.NaN)).toEqual([])
    })
  })
}
