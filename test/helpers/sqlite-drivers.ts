import { openSQLiteDatabase } from '../../src/stores/sqlite/driver.ts'
import type { SQLiteDatabase, SQLiteDriverName } from '../../src/stores/sqlite/index.ts'
import { availableSQLiteDrivers } from '../../src/stores/sqlite/index.ts'

const versions = process.versions as { bun?: string; deno?: string }

function nodeHasSQLite(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 13)
}

/** The runtime the tests run on, as the README's runtime table names it. */
export const RUNTIME =
  versions.bun !== undefined
    ? `Bun ${versions.bun}`
    : versions.deno !== undefined
      ? `Deno ${versions.deno}`
      : `Node ${process.version}`

// Each runtime's drivers. better-sqlite3 13 is a Node-API addon that Bun and Deno load too
// (12, the line for Node 20, is not); the matrix runs them with 13 installed.
const EXPECTED: SQLiteDriverName[] =
  versions.bun !== undefined
    ? ['bun:sqlite', 'node:sqlite', 'better-sqlite3']
    : versions.deno !== undefined
      ? ['node:sqlite', 'better-sqlite3']
      : // node:sqlite came with Node 22.13: on 20 it is not a driver that failed, there is none.
        ['better-sqlite3', ...(nodeHasSQLite() ? (['node:sqlite'] as const) : [])]

const available = new Set(availableSQLiteDrivers())
const chosen = process.env.SESSIONKIT_SQLITE_DRIVERS?.split(',').filter(Boolean) as
  | SQLiteDriverName[]
  | undefined

/**
 * The SQLite drivers the SQLite suites run on here, each with whether it loads: every driver of
 * this runtime, or those named in SESSIONKIT_SQLITE_DRIVERS. A driver that does not load is
 * skipped with the reason in its suite's name (node:sqlite on Node 20).
 */
export const SQLITE_DRIVERS: { driver: SQLiteDriverName; skip: boolean; title: string }[] = (
  chosen ?? EXPECTED
).map((driver) => ({
  driver,
  skip: !available.has(driver),
  title: available.has(driver)
    ? driver
    : `${driver} (does not load on ${RUNTIME}; the CI matrix runs it where it does: node:sqlite on Node ≥ 22.13, better-sqlite3 13 on Bun and Deno)`,
}))

/** The first driver that loads here, for tests about one store rather than about drivers. */
export const DEFAULT_DRIVER: SQLiteDriverName =
  SQLITE_DRIVERS.find((d) => !d.skip)?.driver ?? 'better-sqlite3'

/** A raw connection for a test to look at the file through, with a driver-neutral `pragma`. */
export interface TestDatabase extends SQLiteDatabase {
  /** Runs `PRAGMA <sql>` and returns the first column of its first row. */
  pragma(sql: string): unknown
}

/** Opens `file` with `driver` for a test's own SQL (`readonly` for checks that must not write). */
export function connect(
  driver: SQLiteDriverName,
  file: string,
  options: { readonly?: boolean } = {},
): TestDatabase {
  const db = openSQLiteDatabase(file, driver, options.readonly ?? false)
  // A test's own look at the file waits for a lock as a patient tool would: a closed store's
  // checkpoint thread may still hold it for a moment.
  db.exec('PRAGMA busy_timeout = 5000')
  return Object.assign(db, {
    pragma(sql: string): unknown {
      const row = db.prepare(`PRAGMA ${sql}`).get() as Record<string, unknown> | null | undefined
      return row == null ? undefined : Object.values(row)[0]
    },
  })
}

/**
 * `node --import tsx` for Node; Bun and Deno run TypeScript themselves (Deno's children inherit
 * its `--sloppy-imports`, which resolves the sources' `.js` imports to `.ts`). For forked fixtures.
 */
export const TS_EXEC_ARGV: string[] =
  versions.bun !== undefined || versions.deno !== undefined ? [] : ['--import', 'tsx']

/** The driver a forked fixture opens its store with: its parent's, passed in the environment. */
export const FIXTURE_DRIVER = (process.env.SESSIONKIT_TEST_SQLITE_DRIVER ??
  DEFAULT_DRIVER) as SQLiteDriverName

/** The environment for a forked fixture that must use `driver`. */
export function fixtureEnv(driver: SQLiteDriverName): NodeJS.ProcessEnv {
  return { ...process.env, SESSIONKIT_TEST_SQLITE_DRIVER: driver }
}

/** The arguments before a TypeScript script when a test spawns `process.execPath` itself (not fork). */
export const TS_SPAWN_ARGV: string[] =
  versions.deno !== undefined ? ['run', '-A', '--sloppy-imports'] : TS_EXEC_ARGV
