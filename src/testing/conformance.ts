import type { Store } from '../store.js'
import { compareAndSetChecks } from './compare-and-set.js'
import { contractChecks } from './contract.js'
import { endingChecks } from './ending.js'
import { expiryEventChecks } from './expiry-events.js'
import { listingChecks } from './listing.js'
import { ownerIndexChecks } from './owner-index.js'
import { ownerChecks } from './owners.js'
import { propertyChecks } from './property.js'
import { raceChecks } from './races.js'
import type { ConformanceOptions, StoreDeclaration, StoreHarness, TestRunner } from './runner.js'
import { Suite } from './suite.js'
import { touchChecks } from './touch.js'

/**
 * Registers the store conformance suite, the checks every store in sessionkit passes, with the
 * caller's test runner, under one `describe` titled `<name>: store conformance`. The required
 * contract runs for every store; each capability group's checks run only when `declared` has the
 * group whole, and are otherwise registered with `it.skip` under a title naming the group and what
 * the store lacks. A group implemented only in part fails the `capabilities` check. The harness is
 * made at the first check and reset at the start of each, so no `beforeEach` is needed.
 *
 * @example
 * ```ts
 * import { after, describe, it } from 'node:test'
 * import { describeStoreConformance } from 'sessionkit/testing'
 * import { MyStore } from './my-store.js'
 *
 * describeStoreConformance({ describe, it, afterAll: after }, 'MyStore', MyStore, () => {
 *   const store = new MyStore()
 *   return { store, reset: () => store.clear(), close: () => store.close() }
 * })
 * ```
 */
export function describeStoreConformance<S extends Store>(
  runner: TestRunner,
  name: string,
  declared: StoreDeclaration<S>,
  makeHarness: () => Promise<StoreHarness<S>> | StoreHarness<S>,
  options: ConformanceOptions<S> = {},
): void {
  runner.describe(`${name}: store conformance`, () => {
    const suite = new Suite(runner, name, declared, makeHarness, options)
    contractChecks(suite)
    touchChecks(suite)
    listingChecks(suite)
    compareAndSetChecks(suite)
    endingChecks(suite)
    ownerIndexChecks(suite)
    expiryEventChecks(suite)
    raceChecks(suite)
    ownerChecks(suite)
    propertyChecks(suite)
    runner.afterAll?.(() => suite.close())
  })
}
