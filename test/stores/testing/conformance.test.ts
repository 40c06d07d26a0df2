import { beforeAll, describe, expect, it } from 'vitest'
import { type Result, runNodeTest } from './node-test.ts'

const fixture = 'test/stores/testing/fixtures/node-test-stores.ts'

describe('sessionkit/testing under node:test', () => {
  let results: Result[]
  beforeAll(async () => {
    results = await runNodeTest(fixture)
  }, 120_000)

  /** The results of the checks (not the suites) registered for `store`. */
  const of = (store: string): Result[] =>
    results.filter((r) => r.path[0] === `${store}: store conformance` && r.path.length === 2)
  const titles = (rs: Result[], status: Result['status']): string[] =>
    rs.filter((r) => r.status === status).map((r) => r.path[1] as string)

  it('runs every check on MemoryStore and passes them all, the expiry events through its sweep included', () => {
    const memory = of('MemoryStore')
    expect(memory.length).toBeGreaterThanOrEqual(35)
    expect(titles(memory, 'failed')).toEqual([])
    expect(titles(memory, 'skipped')).toEqual([])
    expect(titles(memory, 'passed')).toEqual(
      expect.arrayContaining([
        'capabilities: implements each group it starts whole',
        'expiryEvents: a sweep removes expired sessions and tells onExpired listeners how many',
        'compareAndSet: ends every random interleaving of overlapping requests in the state their net changes, applied in commit order, give',
      ]),
    )
  })

  it('passes a correct store without optional groups on the contract, and reports each group’s checks as skipped, naming what it lacks', () => {
    const bare = of('BareStore')
    expect(titles(bare, 'failed')).toEqual([])
    const skipped = titles(bare, 'skipped')
    const passed = titles(bare, 'passed')
    // Every check a group needs is skipped, none passes.
    expect(
      passed.filter((t) =>
        /^(touch|listing|compareAndSet|ending|ownerIndex|expiryEvents)\b/.test(t),
      ),
    ).toEqual([])
    expect(skipped).toEqual(
      expect.arrayContaining([
        'touch: moves the expiry without changing data, and refuses an unknown key (skipped: BareStore has no touch())',
        'listing: all() resolves live sessions only, keyed by key, and an empty map when there are none (skipped: BareStore has no all())',
        'ending: forgets an ended key once its memory has passed (skipped: BareStore has no end(), ended())',
        'expiryEvents: a sweep removes expired sessions and tells onExpired listeners how many (skipped: BareStore has no onExpired())',
        'compareAndSet + ending: renewToken carries what other requests stored meanwhile to the new token (skipped: BareStore has no replace(), end(), ended())',
      ]),
    )
    for (const group of [
      'touch',
      'listing',
      'compareAndSet',
      'ending',
      'ownerIndex',
      'expiryEvents',
    ]) {
      expect(
        skipped.some((t) => t.startsWith(`${group}: `)),
        group,
      ).toBe(true)
    }
    expect(passed).toEqual(
      expect.arrayContaining([
        "commit 'update' writes an existing key and refuses a deleted one without writing",
        'under a SessionManager, refuses a mergeSession into a session destroyed meanwhile',
      ]),
    )
  })

  it("fails a store whose commit with 'update' writes a key that is gone, by the check's name", () => {
    expect(titles(of('UpdateWritesAnyway'), 'failed')).toEqual([
      "commit 'update' writes an existing key and refuses a deleted one without writing",
    ])
  })

  it('fails a store whose replace ignores the expected bytes: its own check, the merges and the property', () => {
    const failed = titles(of('ReplaceIgnoresExpected'), 'failed')
    expect(failed).toEqual(
      expect.arrayContaining([
        'compareAndSet: replace writes only over the expected bytes, and otherwise resolves what is there',
        'compareAndSet: keeps both keys when two overlapping requests put different keys',
        'compareAndSet: ends every random interleaving of overlapping requests in the state their net changes, applied in commit order, give',
      ]),
    )
    expect(failed.every((t) => t.startsWith('compareAndSet: '))).toBe(true)
  })

  it('fails a store with end() but no ended(), naming ended(), and skips the ending checks as half-implemented', () => {
    const half = of('EndWithoutEnded')
    const capabilities = half.find((r) => r.path[1]?.startsWith('capabilities: '))
    expect(capabilities?.status).toBe('failed')
    expect(capabilities?.message).toContain('has end() but no ended()')
    expect(titles(half, 'skipped')).toContain(
      'ending: forgets an ended key once its memory has passed (skipped: EndWithoutEnded has end() but no ended())',
    )
    expect(titles(half, 'passed').filter((t) => t.startsWith('ending'))).toEqual([])
    // A SessionManager refuses the store, so every check under one fails too.
    expect(titles(half, 'failed')).toContain(
      'under a SessionManager, refuses a mergeSession into a session destroyed meanwhile',
    )
  })
})
