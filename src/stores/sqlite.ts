// sessionkit/sqlite: the SQLite store, its opener and the drivers they run on.

export {
  availableSQLiteDrivers,
  defaultSQLiteDriver,
  type SQLiteDriverName,
} from './sqlite/driver.js'
export { openSQLiteStore } from './sqlite/open.js'
export { goTimeString } from './sqlite/sql.js'
export { SQLiteStore } from './sqlite/store.js'
export type {
  OpenSQLiteStoreOptions,
  SQLiteDatabase,
  SQLiteStatement,
  SQLiteStoreOptions,
  SQLiteValue,
} from './sqlite/types.js'
