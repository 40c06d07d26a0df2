import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonCodec, type Session, SessionManager, type Store } from '../src/index.ts'

type Data = Record<string, number>

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)

/** The session a request would see, as a plain object, for comparing with the expected state. */
const plain = (s: Session<Data>): Data =>
  Object.fromEntries(s.keys().map((k) => [k, s.get(k) as number]))

/**
 * The concurrency half of the store contract: the store's own replace/end/ended, then the
 * races between requests, run under a SessionManager with the interleavings spelled out (each
 * `await` is one request's step; nothing sleeps). `store()` is the harness's store.
 */
export function describeStoreRaces(store: () => Store): void {
  const manager = (options: { endedTokenTtl?: number } = {}) =>
    new SessionManager<Data>({ store: store(), ...options })

  async function seeded(sessions: SessionManager<Data>, values: Data): Promise<string> {
    const s = await sessions.load('')
    for (const [k, v] of Object.entries(values)) s.put(k, v)
    return (await sessions.commit(s)).token
  }

  describe('replace, end and ended', () => {
    it('replace writes only over the expected bytes, and otherwise resolves what is there', async () => {
      const s = store()
      if (s.replace === undefined) return
      await s.commit('k', enc('one'), inMinutes(1))
      expect(await s.replace('k', enc('one'), enc('two'), inMinutes(1))).toBe(true)
      expect(
        new TextDecoder().decode(
          (await s.replace('k', enc('one'), enc('x'), inMinutes(1))) as Uint8Array,
        ),
      ).toBe('two')
      expect(new TextDecoder().decode(await s.find('k'))).toBe('two')
      expect(await s.replace('gone', enc('one'), enc('x'), inMinutes(1))).toBeUndefined()
      expect(await s.find('gone')).toBeUndefined()
      await s.commit('old', enc('one'), new Date(Date.now() - 5_000))
      expect(await s.replace('old', enc('one'), enc('x'), inMinutes(1))).toBeUndefined()
      expect(await s.find('old')).toBeUndefined()
    })

    it('end removes a live row, resolves its bytes and remembers why; a missing row is not remembered', async () => {
      const s = store()
      if (s.end === undefined || s.ended === undefined) return
      await s.commit('k', enc('held'), inMinutes(1))
      expect(new TextDecoder().decode(await s.end('k', 'renewed', inMinutes(1)))).toBe('held')
      expect(await s.find('k')).toBeUndefined()
      expect(await s.ended('k')).toBe('renewed')
      expect(await s.end('k', 'destroyed', inMinutes(1))).toBeUndefined()
      expect(await s.ended('k')).toBe('renewed')
      expect(await s.end('never', 'destroyed', inMinutes(1))).toBeUndefined()
      expect(await s.ended('never')).toBeUndefined()
      // A marker is a marker, not a session: no commit mode sees it as a live row.
      expect(await s.commit('k', enc('again'), inMinutes(1), 'insert')).toBe(true)
    })

    it('forgets an ended key once its memory has passed', async () => {
      const s = store()
      if (s.end === undefined || s.ended === undefined) return
      await s.commit('k', enc('held'), inMinutes(1))
      await s.end('k', 'destroyed', new Date(Date.now() - 5_000))
      expect(await s.ended('k')).toBeUndefined()
    })
  })

  describe('overlapping requests under a SessionManager', () => {
    it('keeps both keys when two overlapping requests put different keys', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { n: 0 })
      const a = await sessions.load(token)
      const b = await sessions.load(token)
      a.put('a', 1)
      b.put('b', 2)
      expect((await sessions.commit(a)).committed).toBe(true)
      expect((await sessions.commit(b)).committed).toBe(true)
      expect(plain(await sessions.load(token))).toEqual({ n: 0, a: 1, b: 2 })
    })

    it('lets the later commit win when both put the same key, and keeps a remove', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { n: 0, x: 9 })
      const a = await sessions.load(token)
      const b = await sessions.load(token)
      b.put('n', 2)
      a.put('n', 1)
      a.remove('x')
      await sessions.commit(b)
      await sessions.commit(a)
      expect(plain(await sessions.load(token))).toEqual({ n: 1 })
    })

    it('lets clear() remove the keys its request saw, never keys another request added meanwhile', async () => {
      const sessions = manager()
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
      expect(plain(await sessions.load(token))).toEqual({ early: 1, mine: 2, late: 3 })
    })

    it("keeps a request's setDeadline and the other request's keys", async () => {
      const sessions = manager()
      const token = await seeded(sessions, { n: 0 })
      const a = await sessions.load(token)
      const b = await sessions.load(token)
      const deadline = new Date(Date.now() + 10 * 60_000)
      a.setDeadline(deadline)
      b.put('b', 1)
      await sessions.commit(a)
      await sessions.commit(b)
      const after = await sessions.load(token)
      expect(after.deadline.getTime()).toBe(deadline.getTime())
      expect(plain(after)).toEqual({ n: 0, b: 1 })
    })

    it('merges onto a row another program overwrote whole (a Go sqlite3store REPLACE INTO)', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { n: 0 })
      const a = await sessions.load(token)
      // Another program upserts the whole session, without a mode, as Go's stores do.
      const whole = jsonCodec.encode(a.deadline, new Map([['go', 7]]))
      await store().commit(token, whole, inMinutes(60))
      a.put('a', 1)
      expect((await sessions.commit(a)).committed).toBe(true)
      expect(plain(await sessions.load(token))).toEqual({ go: 7, a: 1 })
    })

    it('renewToken carries what other requests stored meanwhile to the new token', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { user: 1 })
      const signIn = await sessions.load(token)
      const other = await sessions.load(token)
      other.put('csrf', 5)
      await sessions.commit(other)
      await signIn.renewToken()
      signIn.put('admin', 1)
      const { token: renewed } = await sessions.commit(signIn)
      expect(plain(await sessions.load(renewed))).toEqual({ user: 1, csrf: 5, admin: 1 })
    })
  })

  describe('a session ended elsewhere stays ended', () => {
    it('refuses the commit of a request that loaded the session before a logout, with no cookie and an event', async () => {
      const sessions = manager()
      const refused: string[] = []
      sessions.on('refused', ({ reason }) => refused.push(reason))
      const token = await seeded(sessions, { user: 1 })
      const slow = await sessions.load(token)
      await (await sessions.load(token)).destroy()
      slow.put('cart', 3)
      expect(await sessions.commitResponse(slow)).toBeUndefined()
      expect(slow.refused).toBe('destroyed')
      expect(refused).toEqual(['destroyed'])
      expect(await store().find(token)).toBeUndefined()
    })

    it('leaves renewToken after a logout with an empty, refused session and no row anywhere', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { user: 1 })
      const slow = await sessions.load(token)
      await (await sessions.load(token)).destroy()
      await slow.renewToken()
      expect(slow.keys()).toEqual([])
      expect(slow.refused).toBe('destroyed')
      slow.put('user', 2)
      const result = await sessions.commit(slow)
      expect(result.committed).toBe(false)
      expect(await sessions.commitResponse(slow)).toBeUndefined()
      const all = (store() as Partial<{ all(): Promise<Map<string, Uint8Array>> }>).all
      if (all !== undefined) {
        for (const data of (await all.call(store())).values()) {
          expect(new TextDecoder().decode(data)).not.toContain('"user"')
        }
      }
    })

    it('gives a request that arrives with the old token after a sign-in an empty session and no Set-Cookie', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { visits: 1 })
      const inFlight = await sessions.load(token)
      const signIn = await sessions.load(token)
      await signIn.renewToken()
      signIn.put('user', 42)
      const { token: renewed } = await sessions.commit(signIn)
      // Loaded before the renewal: its write is refused.
      inFlight.put('csrf', 1)
      expect(await sessions.commitResponse(inFlight)).toBeUndefined()
      expect(inFlight.refused).toBe('renewed')
      // Arrives after it: it sees nothing of the signed-in session and sets no cookie.
      const late = await sessions.load(token)
      expect(late.refused).toBe('renewed')
      expect(late.keys()).toEqual([])
      late.put('flash', 1)
      expect(await sessions.commitResponse(late)).toBeUndefined()
      expect(plain(await sessions.load(renewed))).toEqual({ visits: 1, user: 42 })
    })

    it('sends no deletion cookie for a logout of a token that was renewed meanwhile', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { user: 1 })
      const logout = await sessions.load(token)
      const signIn = await sessions.load(token)
      await signIn.renewToken()
      const { token: renewed } = await sessions.commit(signIn)
      await logout.destroy()
      expect(logout.refused).toBe('renewed')
      expect(await sessions.commitResponse(logout)).toBeUndefined()
      expect(plain(await sessions.load(renewed))).toEqual({ user: 1 })
    })

    it('refuses a mergeSession into a session destroyed meanwhile', async () => {
      const sessions = manager()
      const token = await seeded(sessions, { user: 1 })
      const otherToken = await seeded(sessions, { other: 2 })
      const slow = await sessions.load(token)
      await (await sessions.load(token)).destroy()
      await slow.mergeSession(otherToken)
      expect((await sessions.commit(slow)).committed).toBe(false)
      expect(await store().find(token)).toBeUndefined()
    })

    it('with endedTokenTtl: 0, forgets ended tokens: a late request starts a fresh session', async () => {
      const sessions = manager({ endedTokenTtl: 0 })
      const token = await seeded(sessions, { user: 1 })
      await (await sessions.load(token)).destroy()
      const late = await sessions.load(token)
      expect(late.refused).toBeUndefined()
      late.put('n', 1)
      expect((await sessions.commit(late)).committed).toBe(true)
    })
  })

  it('ends every random interleaving of overlapping requests in the state their net changes, applied in commit order, give', async () => {
    type Op = { put: [string, number] } | { remove: string } | { clear: true }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ put: fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 9 })) }),
      fc.record({ remove: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ clear: fc.constant(true as const) }),
    )
    const requests = fc.array(fc.array(op, { maxLength: 4 }), { minLength: 2, maxLength: 4 })
    const scenario = requests.chain((reqs) =>
      fc.array(fc.nat(), { minLength: reqs.length * 2, maxLength: reqs.length * 2 }).map((keys) => {
        // Each request appears twice: its first step loads, its second commits.
        const steps = reqs.flatMap((_, i) => [i, i])
        const order = steps.map((r, i) => [keys[i] as number, i, r] as const)
        order.sort((x, y) => x[0] - y[0] || x[1] - y[1])
        return { reqs, order: order.map(([, , r]) => r) }
      }),
    )
    const sessions = manager()
    await fc.assert(
      fc.asyncProperty(scenario, async ({ reqs, order }) => {
        const token = await seeded(sessions, { a: 0 })
        const model = new Map<string, number>([['a', 0]])
        const loaded = new Map<number, Session<Data>>()
        const effective = new Map<number, { removed: string[]; changed: [string, number][] }>()
        for (const r of order) {
          const ops = reqs[r] as Op[]
          const open = loaded.get(r)
          if (open === undefined) {
            const s = await sessions.load(token)
            // The model: the request's net change to what it saw (a key it removed, a key
            // whose value it changed), applied at its commit to whatever is stored then.
            const view = new Map(model)
            for (const o of ops) {
              if ('put' in o) {
                s.put(o.put[0], o.put[1])
                view.set(o.put[0], o.put[1])
              } else if ('remove' in o) {
                s.remove(o.remove)
                view.delete(o.remove)
              } else {
                s.clear()
                view.clear()
              }
            }
            const removed = [...model.keys()].filter((k) => !view.has(k))
            const changed = [...view].filter(([k, v]) => model.get(k) !== v)
            effective.set(r, { removed, changed })
            loaded.set(r, s)
          } else {
            expect((await sessions.commit(open)).committed).toBe(true)
            const mine = effective.get(r)
            for (const k of mine?.removed ?? []) model.delete(k)
            for (const [k, v] of mine?.changed ?? []) model.set(k, v)
          }
        }
        expect(plain(await sessions.load(token))).toEqual(Object.fromEntries(model))
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 40) },
    )
  })
}
