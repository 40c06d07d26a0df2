import type { StoreError } from '../../errors.js'
import { cleanupInterval } from '../kit/cleanup.js'
import { checkOptionKeys, nonNegativeInteger, positiveInteger } from '../kit/options.js'
import { defaultSQLiteDriver, type SQLiteDriverName } from './driver.js'
import { logCleanupError } from './errors.js'
import { checkTableName, DEFAULT_TABLE } from './sql.js'
import type { OpenSQLiteStoreOptions, SQLiteStoreOptions } from './types.js'

const STORE_OPTION_NAMES = [
  'cleanupInterval',
  'createTable',
  'cleanupBatchSize',
  'tableName',
  'onCleanupError',
  'fileCheckInterval',
  'busyTimeout',
] as const satisfies readonly (keyof SQLiteStoreOptions)[]

const OPEN_OPTION_NAMES = [
  ...STORE_OPTION_NAMES,
  'driver',
  'checkpointThread',
  'walLimitPages',
] as const satisfies readonly (keyof OpenSQLiteStoreOptions)[]

const DRIVERS: ReadonlySet<SQLiteDriverName> = new Set([
  'better-sqlite3',
  'node:sqlite',
  'bun:sqlite',
])

/** {@link SQLiteStoreOptions} checked, with their defaults filled in. */
export interface StoreSettings {
  cleanupInterval: number
  fileCheckInterval: number
  cleanupBatchSize: number
  busyTimeout: number
  tableName: string
  createTable: boolean
  onCleanupError: (error: StoreError) => void
}

/**
 * The store's settings from `options`: an unknown key is a TypeError naming the nearest known
 * option, a bad value a RangeError naming the option, each message starting with `owner`.
 */
export function storeSettings(owner: string, options: SQLiteStoreOptions): StoreSettings {
  checkOptionKeys(owner, options, STORE_OPTION_NAMES)
  return {
    cleanupInterval: cleanupInterval(owner, options.cleanupInterval, 300_000),
    fileCheckInterval: cleanupInterval(owner, options.fileCheckInterval, 500, 'fileCheckInterval'),
    cleanupBatchSize: positiveInteger(owner, 'cleanupBatchSize', options.cleanupBatchSize, 200),
    busyTimeout: nonNegativeInteger(owner, 'busyTimeout', options.busyTimeout, 0),
    tableName: checkTableName(options.tableName ?? DEFAULT_TABLE),
    createTable: options.createTable ?? true,
    onCleanupError: options.onCleanupError ?? logCleanupError,
  }
}

/** {@link OpenSQLiteStoreOptions} checked: the connection's settings, and the store's options. */
export interface OpenSettings {
  driver: SQLiteDriverName
  busyTimeout: number
  checkpointThread: boolean | undefined
  walLimitPages: number
  /** The store's own options, checked as {@link storeSettings} does, `busyTimeout` left out. */
  store: SQLiteStoreOptions
  tableName: string
}

/**
 * The opener's settings from `options`, all checked before any file is touched: an unknown key
 * is a TypeError naming the nearest known option, a bad value a RangeError naming the option.
 */
export function openSettings(options: OpenSQLiteStoreOptions): OpenSettings {
  checkOptionKeys('openSQLiteStore', options, OPEN_OPTION_NAMES)
  // What is left once the connection's settings are taken out is the store's.
  const { busyTimeout, checkpointThread, walLimitPages, driver: chosen, ...store } = options
  const { tableName } = storeSettings('openSQLiteStore', store)
  const driver = chosen ?? defaultSQLiteDriver()
  if (!DRIVERS.has(driver)) {
    throw new RangeError(
      `openSQLiteStore: driver must be one of ${[...DRIVERS].join(', ')}, got ${String(driver)}`,
    )
  }
  return {
    driver,
    busyTimeout: nonNegativeInteger('openSQLiteStore', 'busyTimeout', busyTimeout, 5_000),
    checkpointThread,
    walLimitPages: positiveInteger('openSQLiteStore', 'walLimitPages', walLimitPages, 16384),
    store,
    tableName,
  }
}
