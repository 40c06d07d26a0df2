import { createRequire } from 'node:module'

// connect-sqlite3 is not a devDependency: it brings node-sqlite3, which compiles for minutes on
// every contributor's `npm install`, for one contender of the benchmark and two bridge tests.
// Those install it on demand, at the versions they were written against.
const require = createRequire(import.meta.url)

/** The package and version range the benchmark and the bridge tests use. */
export const CONNECT_SQLITE3 = 'connect-sqlite3@^0.9.18'

/** The command that adds connect-sqlite3 to node_modules without changing package.json. */
export const INSTALL_CONNECT_SQLITE3 = `npm install --no-save --no-audit --no-fund ${CONNECT_SQLITE3}`

/** Whether connect-sqlite3 and the node-sqlite3 it drives can be loaded from this project. */
export function hasConnectSqlite3(): boolean {
  try {
    require.resolve('connect-sqlite3')
    require.resolve('sqlite3')
    return true
  } catch {
    return false
  }
}
