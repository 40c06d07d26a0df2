import { existsSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { MemoryStore, type MemoryStoreOptions } from '../../src/index.ts'
import { PostgresStore, type PostgresStoreOptions } from '../../src/stores/postgres/index.ts'
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.ts'
import { openSQLiteDatabase } from '../../src/stores/sqlite/driver.ts'
import {
  type OpenSQLiteStoreOptions,
  openSQLiteStore,
  type SQLiteDatabase,
  SQLiteStore,
  type SQLiteStoreOptions,
} from '../../src/stores/sqlite/index.ts'
import { DEFAULT_DRIVER } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

// Option objects built at run time, as from a config file: the types do not catch a typo there.
type Options = Record<string, unknown>

// Clients that answer nothing: every check below happens in the constructor, before any call.
const pgClient = { query: async () => ({ rows: [], rowCount: 0 }) }
const redisClient = { sendCommand: async () => null }

let tmp: ReturnType<typeof tempDir>
let db: SQLiteDatabase
beforeEach(() => {
  tmp = tempDir()
  db = openSQLiteDatabase(':memory:', DEFAULT_DRIVER)
})
afterEach(() => {
  db.close()
  tmp.remove()
})

/** Each store's constructor, by the name its messages start with. */
const stores: [string, (options: Options) => { close(): void }][] = [
  ['MemoryStore', (options) => new MemoryStore(options as MemoryStoreOptions)],
  ['PostgresStore', (options) => new PostgresStore(pgClient, options as PostgresStoreOptions)],
  ['RedisStore', (options) => new RedisStore(redisClient, options as RedisStoreOptions)],
  ['SQLiteStore', (options) => new SQLiteStore(db, options as SQLiteStoreOptions)],
  ['openSQLiteStore', (options) => openSQLiteStore(tmp.file, options as OpenSQLiteStoreOptions)],
]

/** What `make(options)` threw; fails the test when it did not throw. */
function thrown(make: () => unknown): Error {
  try {
    const made = make() as { close?: () => void }
    made.close?.()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the constructor to throw')
}

describe('store options', () => {
  describe.each(stores)('%s', (owner, make) => {
    it('refuses an unknown key with a TypeError naming it and the nearest known option', () => {
      const misspelt = owner === 'RedisStore' ? { prefx: 'app:' } : { cleanupIntervall: 0 }
      const [key] = Object.keys(misspelt)
      const near = owner === 'RedisStore' ? 'prefix' : 'cleanupInterval'
      const err = thrown(() => make(misspelt))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toContain(
        `${owner}: unknown option "${key}" (did you mean ${near}?); the options are `,
      )
    })

    it('refuses a key like no known option without a guess, listing the options', () => {
      const err = thrown(() => make({ colour: 'blue' }))
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toMatch(
        new RegExp(`^${owner}: unknown option "colour"; the options are [a-zA-Z, ]+$`),
      )
    })
  })

  it('openSQLiteStore refuses an unknown key or a bad store option before it creates the file', () => {
    const err = thrown(() =>
      openSQLiteStore(tmp.file, { cleanupIntervall: 0 } as OpenSQLiteStoreOptions),
    )
    expect(err.message).toContain(
      'openSQLiteStore: unknown option "cleanupIntervall" (did you mean cleanupInterval?)',
    )
    for (const bad of [{ cleanupBatchSize: 0 }, { fileCheckInterval: -1 }, { tableName: 'a b' }]) {
      expect(() => openSQLiteStore(tmp.file, bad)).toThrow(RangeError)
    }
    expect(existsSync(tmp.file)).toBe(false)
  })

  it('openSQLiteStore knows its own options too, and names them in its suggestions', () => {
    const err = thrown(() =>
      openSQLiteStore(tmp.file, { walLimitPage: 100 } as OpenSQLiteStoreOptions),
    )
    expect(err.message).toContain('unknown option "walLimitPage" (did you mean walLimitPages?)')
    expect(err.message).toMatch(/the options are .*driver, checkpointThread, walLimitPages$/)
    const store = openSQLiteStore(tmp.file, {
      driver: DEFAULT_DRIVER,
      busyTimeout: 100,
      checkpointThread: false,
      walLimitPages: 100,
      cleanupInterval: 0,
      fileCheckInterval: 0,
    })
    store.close()
  })

  describe('cleanupInterval', () => {
    const sweeping = stores.filter(([owner]) => owner !== 'RedisStore')

    it.each(sweeping)('%s refuses one above 2^31-1 ms with the same RangeError', (owner, make) => {
      const err = thrown(() => make({ cleanupInterval: 2 ** 31 }))
      expect(err).toBeInstanceOf(RangeError)
      expect(err.message).toBe(
        `${owner}: cleanupInterval must be a number of ms from 0 to 2147483647, got 2147483648`,
      )
    })

    it.each(sweeping)('%s takes 2^31-1 ms, the largest timer Node runs as asked', (_, make) => {
      make({ cleanupInterval: 2 ** 31 - 1 }).close()
    })

    it('RedisStore has none (Redis expires keys itself) and refuses it as unknown', () => {
      const err = thrown(
        () => new RedisStore(redisClient, { cleanupInterval: 2 ** 31 } as RedisStoreOptions),
      )
      expect(err).toBeInstanceOf(TypeError)
      expect(err.message).toMatch(/^RedisStore: unknown option "cleanupInterval"/)
    })
  })
})
