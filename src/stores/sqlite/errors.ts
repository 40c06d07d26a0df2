import { StoreError } from '../../errors.js'

// SQLite's primary result codes by number (sqlite3.h), for drivers that give only the number.
const PRIMARY = [
  'OK',
  'ERROR',
  'INTERNAL',
  'PERM',
  'ABORT',
  'BUSY',
  'LOCKED',
  'NOMEM',
  'READONLY',
  'INTERRUPT',
  'IOERR',
  'CORRUPT',
  'NOTFOUND',
  'FULL',
  'CANTOPEN',
  'PROTOCOL',
  'EMPTY',
  'SCHEMA',
  'TOOBIG',
  'CONSTRAINT',
  'MISMATCH',
  'MISUSE',
  'NOLFS',
  'AUTH',
  'FORMAT',
  'RANGE',
  'NOTADB',
]
// sqlite3_errstr's texts, for the errors a driver reports with no code at all (Deno's
// node:sqlite `exec`): the store's decisions (wait on BUSY, reclaim on FULL) must not depend
// on which driver raised them.
const BY_MESSAGE: [string, string][] = [
  ['database is locked', 'SQLITE_BUSY'],
  ['database table is locked', 'SQLITE_LOCKED'],
  ['database or disk is full', 'SQLITE_FULL'],
  ['attempt to write a readonly database', 'SQLITE_READONLY'],
  ['database disk image is malformed', 'SQLITE_CORRUPT'],
  ['file is not a database', 'SQLITE_NOTADB'],
  ['unable to open database file', 'SQLITE_CANTOPEN'],
  ['disk I/O error', 'SQLITE_IOERR'],
]

/**
 * The SQLite result code a driver error carries, as a name (`SQLITE_BUSY`, `SQLITE_READONLY_…`),
 * or undefined: better-sqlite3 and bun:sqlite name it in `code`, node:sqlite gives the number in
 * `errcode`.
 */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return code
  const errcode = (err as { errcode?: unknown } | null)?.errcode
  if (typeof errcode === 'number') {
    const name = PRIMARY[errcode & 0xff]
    if (name !== undefined) return `SQLITE_${name}`
  }
  const message = err instanceof Error ? err.message : ''
  for (const [text, name] of BY_MESSAGE) if (message.includes(text)) return name
  return typeof code === 'string' ? code : undefined
}

/** True for SQLite's "no such table" error, also when wrapped in a StoreError. */
export function isMissingTable(err: unknown): boolean {
  const cause = err instanceof StoreError ? err.cause : err
  return cause instanceof Error && cause.message.includes('no such table')
}

function advice(err: unknown, table: string): string {
  const code = sqliteCode(err) ?? ''
  const message = err instanceof Error ? err.message : String(err)
  const missing = /no such table: (?:main\.)?(\w+)/.exec(message)?.[1]
  if (missing !== undefined || message.includes('no such table')) {
    return `the table "${missing ?? table}" does not exist: create it with the schema in docs/stores.md, or construct the store with createTable: true`
  }
  // better-sqlite3, node:sqlite and bun:sqlite say it three ways.
  if (
    message.includes('connection is not open') ||
    message.includes('database is not open') ||
    message.includes('closed database')
  ) {
    return 'the database connection is closed: close it only after the last store call'
  }
  // SQLite's own check, for a file in rollback-journal mode (WAL mode writes on regardless).
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return 'the database file was deleted or moved while open: open the file at its path again (openSQLiteStore does so by itself)'
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return 'the database is read-only: open it writable, and make sure this process can write the file and its directory (WAL creates -wal and -shm files beside it)'
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return 'another connection held the write lock longer than the busy timeout: raise the timeout (better-sqlite3 `timeout`, PRAGMA busy_timeout; openSQLiteStore uses 5 s) and keep other writers’ transactions short'
  }
  if (code === 'SQLITE_FULL') {
    return 'the database is full: free disk space, or raise PRAGMA max_page_count'
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return 'the file is damaged or not a SQLite database: restore it from a backup (PRAGMA integrity_check gives details)'
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR')) {
    return 'SQLite could not read or write the file: check the path, its permissions and the disk'
  }
  return 'see the SQLite error in `cause`'
}

/** Wraps a driver error as a StoreError whose message says what to do and whose `cause` is the SQLite error. */
export function toSQLiteStoreError(err: unknown, operation: string, table: string): StoreError {
  if (err instanceof StoreError) return err
  const code = sqliteCode(err)
  const detail = err instanceof Error ? err.message : String(err)
  return new StoreError(
    `SQLiteStore ${operation} failed${code === undefined ? '' : ` (${code})`}: ${detail}; ${advice(err, table)}`,
    { cause: err },
  )
}

/** The default `onCleanupError`: a failed timed cleanup is logged, and the timer keeps running. */
export function logCleanupError(error: StoreError): void {
  console.error('sessionkit: SQLiteStore cleanup failed:', error)
}
