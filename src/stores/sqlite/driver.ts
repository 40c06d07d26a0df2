import { createRequire } from 'node:module'
import { StoreError } from '../../errors.js'
import type { SQLiteDatabase, SQLiteStatement } from './types.js'

/**
 * A SQLite binding the store can open a file with: the better-sqlite3 package, Node's built-in
 * `node:sqlite` (Node ≥ 22.13, and Deno and Bun through their Node compatibility) or Bun's
 * `bun:sqlite`. All three link SQLite itself, so the file they write is the same.
 */
export type SQLiteDriverName = 'better-sqlite3' | 'node:sqlite' | 'bun:sqlite'

const require = createRequire(import.meta.url)
const isBun = (): boolean => typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'

type Opener = (path: string, readonly: boolean) => SQLiteDatabase

// Each driver's constructor, loaded on first use: importing sessionkit/sqlite loads none of them.
const openers = new Map<SQLiteDriverName, Opener>()

function load(driver: SQLiteDriverName): Opener {
  const known = openers.get(driver)
  if (known !== undefined) return known
  let opener: Opener
  if (driver === 'better-sqlite3') {
    const Database = require('better-sqlite3') as new (
      path: string,
      options: { readonly: boolean },
    ) => SQLiteDatabase
    // The package loads its addon on first open: open once now, so a build for another runtime
    // fails here, as "does not load", rather than on the caller's first file.
    new Database(':memory:', { readonly: false }).close()
    opener = (path, readonly) => new Database(path, { readonly })
  } else if (driver === 'node:sqlite') {
    const { DatabaseSync } = require('node:sqlite') as {
      DatabaseSync: new (path: string, options: { readOnly: boolean }) => SQLiteDatabase
    }
    opener = (path, readOnly) => new DatabaseSync(path, { readOnly })
  } else {
    const { Database } = require('bun:sqlite') as {
      Database: new (path: string, options: { readonly?: boolean }) => SQLiteDatabase
    }
    // Bun's constructor creates the file unless it is told `readonly`; both flags at once throw.
    opener = (path, readonly) => new Database(path, readonly ? { readonly: true } : {})
  }
  openers.set(driver, opener)
  return opener
}

function loads(driver: SQLiteDriverName): boolean {
  try {
    load(driver)
    return true
  } catch {
    return false
  }
}

/** True when the better-sqlite3 package can be found from here, whether or not it loads. */
function betterSqlite3Installed(): boolean {
  try {
    require.resolve('better-sqlite3')
    return true
  } catch {
    return false
  }
}

/**
 * The drivers that open a database on this runtime, in the order `openSQLiteStore` prefers
 * them: better-sqlite3 (when installed and loadable here: 12.x on the Node it was built for,
 * 13.x on Node ≥ 22, Bun and Deno), then the runtime's own (`bun:sqlite`, `node:sqlite`).
 */
export function availableSQLiteDrivers(): SQLiteDriverName[] {
  const order: SQLiteDriverName[] = isBun()
    ? ['better-sqlite3', 'bun:sqlite', 'node:sqlite']
    : ['better-sqlite3', 'node:sqlite']
  return order.filter(loads)
}

/**
 * The driver `openSQLiteStore` uses when none is named: better-sqlite3 when it is installed and
 * loads on this runtime, otherwise the runtime's own SQLite (`bun:sqlite` on Bun, `node:sqlite`
 * elsewhere), with a process warning when better-sqlite3 is installed but does not load.
 */
export function defaultSQLiteDriver(): SQLiteDriverName {
  const builtin: SQLiteDriverName = isBun() ? 'bun:sqlite' : 'node:sqlite'
  if (!betterSqlite3Installed()) return loads(builtin) ? builtin : 'better-sqlite3'
  if (loads('better-sqlite3') || !loads(builtin)) return 'better-sqlite3'
  // Installed but built for another runtime (a Node upgrade, or Bun and Deno, which cannot load
  // better-sqlite3 12's V8 addon): the built-in keeps every guarantee, so use it, and say so.
  if (!warned) {
    warned = true
    process.emitWarning(
      `better-sqlite3 is installed but does not load on ${runtimeName()}; sessionkit uses ${builtin} instead. Rebuild it (npm rebuild better-sqlite3) to use it, or pass driver: '${builtin}' to say this is intended`,
      { code: 'SESSIONKIT_SQLITE_DRIVER' },
    )
  }
  return builtin
}
let warned = false

function loadError(driver: SQLiteDriverName, err: unknown): StoreError {
  const detail = err instanceof Error ? err.message : String(err)
  const code = (err as { code?: unknown } | null)?.code
  let advice: string
  if (driver === 'better-sqlite3' && code === 'MODULE_NOT_FOUND') {
    advice = `install it (npm install better-sqlite3), or use the runtime's own SQLite: driver: 'node:sqlite' on Node ≥ 22.13 and Deno, 'bun:sqlite' on Bun`
  } else if (driver === 'better-sqlite3') {
    advice = `its native addon does not load on ${runtimeName()}: rebuild it for this runtime (npm rebuild better-sqlite3), or pass driver: 'node:sqlite' to use the runtime's own SQLite`
  } else if (driver === 'node:sqlite') {
    advice = `node:sqlite needs Node ≥ 22.13 (or Deno ≥ 2.2, Bun ≥ 1.2); on ${runtimeName()} install better-sqlite3 instead`
  } else {
    advice = `bun:sqlite exists only on Bun; on ${runtimeName()} use 'node:sqlite' or better-sqlite3`
  }
  return new StoreError(`SQLiteStore cannot load the ${driver} driver: ${detail}; ${advice}`, {
    cause: err,
  })
}

function runtimeName(): string {
  const versions = process.versions as { bun?: string; deno?: string }
  if (versions.bun !== undefined) return `Bun ${versions.bun}`
  if (versions.deno !== undefined) return `Deno ${versions.deno}`
  return `Node ${process.version}`
}

/**
 * Opens `path` with `driver` (`readonly` opens it for reading only); throws a StoreError naming
 * the driver and what to do when the driver cannot be loaded, and the driver's own error when
 * the file cannot be opened.
 */
export function openSQLiteDatabase(
  path: string,
  driver: SQLiteDriverName,
  readonly = false,
): SQLiteDatabase {
  let open: Opener
  try {
    open = load(driver)
  } catch (err) {
    throw loadError(driver, err)
  }
  return open(path, readonly)
}

/**
 * What a worker thread evaluates to open its own connection with `driver`: a CommonJS
 * expression over `workerData.path` (and `workerData.module`, better-sqlite3's resolved path).
 */
export function workerOpenSource(driver: SQLiteDriverName): string {
  if (driver === 'node:sqlite') return `new (require('node:sqlite').DatabaseSync)(workerData.path)`
  if (driver === 'bun:sqlite') return `new (require('bun:sqlite').Database)(workerData.path)`
  return `new (require(workerData.module))(workerData.path)`
}

/** Where a worker finds better-sqlite3 (the package this module would load), or undefined for the built-in drivers. */
export function workerModule(driver: SQLiteDriverName): string | undefined {
  return driver === 'better-sqlite3' ? require.resolve('better-sqlite3') : undefined
}

/** Runs `use` on a statement prepared for this one use and finalizes it at once: bun:sqlite keeps the file open after close() while any statement lives. */
export function runOnce<T>(
  db: SQLiteDatabase,
  sql: string,
  use: (statement: SQLiteStatement) => T,
): T {
  const statement = db.prepare(sql)
  try {
    return use(statement)
  } finally {
    statement.finalize?.()
  }
}
