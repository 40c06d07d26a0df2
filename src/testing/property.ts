import assert from 'node:assert/strict'
import type * as FastCheck from 'fast-check'
import type { Session } from '../session.js'
import { SessionManager } from '../session-manager.js'
import type { Store } from '../store.js'
import { installed } from './optional.js'
import type { Suite } from './suite.js'
import { type Data, plain, seeded } from './support.js'

const TITLE =
  'ends every random interleaving of overlapping requests in the state their net changes, applied in commit order, give'

type Op = { put: [string, number] } | { remove: string } | { clear: true }

/** The fast-check property over overlapping requests; skipped by name when fast-check is absent. */
export function propertyChecks<S extends Store>(suite: Suite<S>): void {
  if (!installed('fast-check')) {
    suite.skip(`compareAndSet: ${TITLE}`, 'install fast-check to run this property')
    return
  }
  suite.group(['compareAndSet'], TITLE, async ({ store }) => {
    const fc: typeof FastCheck = await import('fast-check')
    const op: FastCheck.Arbitrary<Op> = fc.oneof(
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
    const sessions = new SessionManager<Data>({ store })
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
            // The model: the request's net change to what it saw (a key it removed, a key whose
            // value it changed), applied at its commit to whatever is stored then.
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
            assert.equal((await sessions.commit(open)).committed, true)
            const mine = effective.get(r)
            for (const k of mine?.removed ?? []) model.delete(k)
            for (const [k, v] of mine?.changed ?? []) model.set(k, v)
          }
        }
        assert.deepEqual(plain(await sessions.load(token)), Object.fromEntries(model))
      }),
      { numRuns: suite.options.propertyRuns ?? 40 },
    )
  })
}
