// Run before `npm run bench`: installs connect-sqlite3 (for the express-session + connect-sqlite3
// contender) when it is missing, with `npm install --no-save`, which leaves package.json, the lock
// file and every other installed package as they are. CI runs it after `npm ci` too.
import { execFileSync, execSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  CONNECT_SQLITE3,
  hasConnectSqlite3,
  INSTALL_CONNECT_SQLITE3,
} from './lib/connect-sqlite3.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

if (!hasConnectSqlite3()) {
  console.log(
    `installing ${CONNECT_SQLITE3} for the benchmark (node-sqlite3 may compile for a few minutes): ${INSTALL_CONNECT_SQLITE3}`,
  )
  execSync(INSTALL_CONNECT_SQLITE3, { cwd: root, stdio: 'inherit' })
  // A fresh process: this one remembers the package.json it failed to find before the install.
  try {
    execFileSync(
      process.execPath,
      ['-e', "require.resolve('connect-sqlite3'); require('sqlite3')"],
      {
        cwd: root,
        stdio: 'pipe',
      },
    )
  } catch (err) {
    throw new Error(`${CONNECT_SQLITE3} is still missing after the install`, { cause: err })
  }
}
