import { StoreError } from '../errors.js'

/** The SQLite result code a driver error carries (`SQLITE_BUSY`, …), or undefined. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') return code
  // node:sqlite puts the extended code name in `errstr` and the number in `errcode`.
  const errcode = (err as { errcode?: unknown } | null)?.errcode
  return typeof errcode === 'number' ? `SQLITE_${errcode}` : undefined
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
  if (message.includes('connection is not open')) {
    return 'the database connection is closed: close it only after the last store call'
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
