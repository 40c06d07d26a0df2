import { StoreError } from '../../errors.js'

export const logCleanupError = (error: StoreError): void => {
  console.error('sessionkit: PostgresStore cleanup failed:', error)
}

function advice(err: unknown, table: string): string {
  const code = (err as { code?: unknown } | null)?.code
  if (code === '42P01') {
    return `the table "${table}" does not exist: create it with the schema in docs/stores.md, or construct the store with createTable: true`
  }
  if (code === '42501') {
    return 'the database user lacks a privilege: it needs SELECT, INSERT, UPDATE and DELETE on the table (and CREATE on the schema for createTable)'
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return 'the PostgreSQL server cannot be reached; requests recover by themselves once it is back'
  }
  return 'see the driver error in `cause`'
}

export function toPostgresStoreError(err: unknown, operation: string, table: string): StoreError {
  if (err instanceof StoreError) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new StoreError(`PostgresStore ${operation} failed: ${detail} (${advice(err, table)})`, {
    cause: err,
  })
}
