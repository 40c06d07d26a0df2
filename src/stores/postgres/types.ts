import type { StoreError } from '../../errors.js'

/** One statement as the store sends it: pg's query config (a named statement is prepared once per connection). */
export interface PostgresQuery {
  name?: string
  text: string
  values?: unknown[]
  /** pg's per-query read timeout, so a connection stuck on a dead server is released. */
  query_timeout?: number
}

/** The part of a query result the store reads. */
export interface PostgresResult {
  rows: unknown[]
  rowCount: number | null
}

/** The one method the store calls: `query(config)` of a pg `Pool` (recommended) or `Client`. */
export interface PostgresClient {
  query(config: PostgresQuery): Promise<PostgresResult>
}

/** Options for {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** How often expired rows are deleted, in ms; 0 disables the timer. @default 300_000 (5 min, as postgresstore) */
  cleanupInterval?: number
  /** Rows deleted per batch by `deleteExpired`, so no statement holds locks on many rows. @default 500 */
  cleanupBatchSize?: number
  /** Create the table and its expiry index on first use when missing; with false a missing table is a StoreError. @default true */
  createTable?: boolean
  /** The table; a plain identifier (letters, digits, `_`), optionally schema-qualified (`auth.sessions`). @default 'sessions' */
  tableName?: string
  /** How long one operation may take before it rejects with a StoreError, in ms. @default 2_000 */
  timeout?: number
  /** Receives a failed timed cleanup; the timer keeps running. @default logs with console.error */
  onCleanupError?: (error: StoreError) => void
}
