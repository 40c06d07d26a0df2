import type { Store } from '../store.js'

/** A check's body as the suite hands it to the runner: it takes nothing and settles when done. */
export type TestBody = () => Promise<void>

/**
 * A runner's `it`: registers a check under a title; `skip` registers one that the runner reports
 * as skipped without running it (Vitest, Jest, Bun and node:test all have `it.skip`).
 */
export interface RunnerIt {
  (name: string, body: TestBody): unknown
  skip(name: string, body: TestBody): unknown
}

/**
 * The functions of the caller's test runner that the suite registers its checks with, so the suite
 * itself imports no test framework: `{ describe, it, afterAll }` from Vitest, Jest or Bun, or
 * `{ describe, it, afterAll: after }` from node:test. `afterAll`, when given, closes the harness
 * once the last check has run; the suite uses no other hook.
 */
export interface TestRunner {
  describe(name: string, body: () => void): unknown
  it: RunnerIt
  afterAll?(body: () => Promise<void>): unknown
}

/**
 * What the caller hands the suite for the store under test. The suite creates it lazily, at its
 * first check, and calls `reset` at the start of every check, so it needs no `beforeEach`.
 */
export interface StoreHarness<S extends Store = Store> {
  /** The store under test; every check uses this one instance. */
  store: S
  /** Empties the store (its table, keyspace or map), so each check starts with no rows. */
  reset(): Promise<void> | void
  /** Releases the store and its client; called once after the last check when the runner has `afterAll`. */
  close?(): Promise<void> | void
}

/**
 * The store's class (its prototype's methods declare its capability groups) or a store instance.
 * The suite reads the groups from it when it registers its checks, before any harness exists, and
 * a check then verifies that the harness's store declares the same groups.
 */
export type StoreDeclaration<S extends Store = Store> = S | (abstract new (...args: never[]) => S)

/** Options of {@link describeStoreConformance}. */
export interface ConformanceOptions<S extends Store = Store> {
  /**
   * Runs the store's timed cleanup once, as its timer would, so that the listeners given to
   * `onExpired` hear of what it removed; a promise it returns is awaited. Without it the
   * `expiryEvents` check is skipped by name.
   */
  sweep?(store: S): unknown
  /** How many random interleavings the fast-check property tries. @default 40 */
  propertyRuns?: number
}
