// Run before `npm run bench`: installs connect-sqlite3 (for the express-session + connect-sqlite3
// contender) when it is missing, with `npm install --no-save`, which leaves package.json, the lock
// file and every other installed package as they are. CI runs it after `npm ci` too.
import { execSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  CONNECT_SQLITE3,
  hasConnectSqlite3,
  INSTALL_CONNECT_SQLITE3,
} from './lib/connect-sqlite3.ts'

if (!hasConnectSqlite3()) {
  console.log(
    `installing ${CONNECT_SQLITE3} for the benchmark (node-sqlite3 may compile for a few minutes): ${INSTALL_CONNECT_SQLITE3}`,
  )
  execSync(INSTALL_CONNECT_SQLITE3, {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
  })
  if (!hasConnectSqlite3()) throw new Error(`${CONNECT_SQLITE3} is still missing after the install`)
}
