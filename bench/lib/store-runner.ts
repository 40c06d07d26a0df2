import type { SQLiteStore } from '../../src/stores/sqlite/index.ts'
import { goTimeString } from '../../src/stores/sqlite/index.ts'

/** The store operations the SQLite benchmarks time. */
export type Op = 'find' | 'commit' | 'delete'

/** One side of a comparison: each op run over `keys` (finds and commits `ops` times, deletes once per key). */
export type Runner = Record<Op, (keys: string[]) => Promise<void> | void>

/** What every run of one benchmark shares: how many ops, over how many keys, with what row. */
export interface Workload {
  ops: number
  keys: number
  data: Uint8Array
  expiry: Date
}

/** The store side: each op awaited one after another, as a request would. */
export function storeRunner(store: SQLiteStore, w: Workload): Runner {
  return {
    async find(keys) {
      for (let i = 0; i < w.ops; i++) await store.find(keys[i % w.keys] as string)
    },
    async commit(keys) {
      for (let i = 0; i < w.ops; i++)
        await store.commit(keys[i % w.keys] as string, w.data, w.expiry)
    },
    async delete(keys) {
      for (const k of keys) await store.delete(k)
    },
  }
}

/** A prepared statement as both raw sides run it (better-sqlite3, node:sqlite and bun:sqlite agree). */
interface Prepared {
  get(...params: unknown[]): unknown
  run(...params: unknown[]): unknown
}

/** The raw side: the store's own statements, prepared once, run with no store around them. */
export function rawRunner(
  statements: { find: Prepared; upsert: Prepared; delete: Prepared },
  w: Workload,
): Runner {
  // A string formatted once, so the store's own formatting counts against it.
  const at = goTimeString(w.expiry)
  return {
    find(keys) {
      for (let i = 0; i < w.ops; i++) statements.find.get(keys[i % w.keys] as string)
    },
    commit(keys) {
      for (let i = 0; i < w.ops; i++) statements.upsert.run(keys[i % w.keys] as string, w.data, at)
    },
    delete(keys) {
      for (const k of keys) statements.delete.run(k)
    },
  }
}

/** How many of `count` operations `run` did per second. */
export async function opsPerSecond(
  run: () => Promise<void> | void,
  count: number,
): Promise<number> {
  const started = performance.now()
  await run()
  return count / ((performance.now() - started) / 1000)
}

/** The median of `xs` (the upper one of an even count). */
export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[xs.length >> 1] as number
