// sessionkit/sqlite: the SQLite store, its opener and the drivers they run on.

export {
  availableSQLiteDrivers,
  defaultSQLiteDriver,
  type SQLiteDriverName,
} from './driver.js'
export { openSQLiteStore } from './open.js'
export { goTimeString } from './sql.js'
export { SQLiteStore } from './store.js'
export type {
  OpenSQLiteStoreOptions,
  SQLiteDatabase,
  SQLiteStatement,
  SQLiteStoreOptions,
  SQLiteValue,
} from './types.js'
