import type { Backend } from './backend.js'
import { UsageError } from './commands.js'

/**
 * Opens the store `url` names with a connection of the command line's own: `sqlite:<file>`,
 * `postgres://…` (or `postgresql://`) or `redis://…` (or `rediss://`). A URL of no known kind is
 * a UsageError; a missing driver package is an error that says what to install.
 */
export async function openBackend(
  url: string,
  options: { table?: string; prefix?: string; busyTimeout?: number; create: boolean },
): Promise<Backend> {
  const table = options.table ?? 'sessions'
  if (options.busyTimeout !== undefined && !url.startsWith('sqlite:')) {
    throw new UsageError('--busy-timeout is for SQLite files')
  }
  if (url.startsWith('sqlite:')) {
    if (options.prefix !== undefined)
      throw new UsageError('--prefix is for Redis; SQLite has --table')
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '')
    if (path === '') throw new UsageError(`'${url}' names no file: use sqlite:./sessions.db`)
    const { openSQLiteBackend } = await import('./backends/sqlite.js')
    return openSQLiteBackend(path, {
      table,
      create: options.create,
      busyTimeout: options.busyTimeout ?? 5_000,
    })
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    if (options.prefix !== undefined)
      throw new UsageError('--prefix is for Redis; Postgres has --table')
    const { openPostgresBackend } = await import('./backends/postgres.js')
    return openPostgresBackend(url, { table, create: options.create })
  }
  if (/^rediss?:\/\//.test(url)) {
    if (options.table !== undefined)
      throw new UsageError('--table is for SQL stores; Redis has --prefix')
    const { openRedisBackend } = await import('./backends/redis.js')
    return openRedisBackend(url, options.prefix === undefined ? {} : { prefix: options.prefix })
  }
  throw new UsageError(
    `unknown store '${url}': use sqlite:<file>, postgres://user@host/db or redis://host:port`,
  )
}

/** `url` with its password replaced by `***`, for messages and reports. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@')
}

/** Loads an optional peer package, or says which to install. */
export async function peer<T>(name: string, store: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(`the ${store} store needs the '${name}' package: npm install ${name}`)
    }
    throw err
  }
}
