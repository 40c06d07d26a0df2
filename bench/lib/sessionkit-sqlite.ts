import type { Store } from '../../src/index.ts'
import { failToStart } from './serve.ts'

/** A store that may hold a database handle to close. */
export type ClosableStore = Store & { close?: () => void }

/**
 * Opens sessionkit's SQLiteStore on the WAL file named by BENCH_DB, or reports why it cannot:
 * the store is loaded at run time so the other contenders still run without it.
 */
export async function openBenchSQLiteStore(): Promise<ClosableStore> {
  const path = process.env.BENCH_DB
  if (path === undefined) return failToStart(new Error('BENCH_DB is not set'))
  try {
    // A computed specifier, so the bench typechecks while the store is still being written.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
    const url = new URL(`../../src/stores/sqlite/index${ext}`, import.meta.url).href
    const mod = (await import(url)) as {
      openSQLiteStore: (path: string) => ClosableStore
    }
    return mod.openSQLiteStore(path)
  } catch (err) {
    return failToStart(err)
  }
}
