import { it } from 'vitest'
import {
  CONNECT_SQLITE3,
  hasConnectSqlite3,
  INSTALL_CONNECT_SQLITE3,
} from '../../bench/lib/connect-sqlite3.ts'

/**
 * Why the tests that drive connect-sqlite3 cannot run here (it is no devDependency: see
 * bench/lib/connect-sqlite3.ts), for their suite's name, or undefined when it is installed. Under
 * CI=true, which installs it, its absence is a failure: a test that throws is registered.
 */
export function connectSqlite3Missing(): string | undefined {
  if (hasConnectSqlite3()) return undefined
  const why = `${CONNECT_SQLITE3} is not installed: ${INSTALL_CONNECT_SQLITE3}`
  if (process.env.CI === 'true') {
    it('has connect-sqlite3 to test against', () => {
      throw new Error(why)
    })
  }
  return why
}
