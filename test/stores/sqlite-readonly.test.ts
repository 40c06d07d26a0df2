import { execFile } from 'node:child_process'
import { chmodSync, chownSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connect, fixtureEnv, SQLITE_DRIVERS, TS_SPAWN_ARGV } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const SCRIPT = fileURLToPath(new URL('../fixtures/sqlite-readonly.ts', import.meta.url))
// Root reads and writes any file, so under root (CI) the script runs as `nobody`.
const NOBODY = 65534
const asUser = process.getuid?.() === 0

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    function runScript(file: string, scenario: string): Promise<Record<string, unknown>> {
      const node = [process.execPath, ...TS_SPAWN_ARGV, SCRIPT, file, scenario]
      const [command, ...args] = asUser
        ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...node]
        : node
      return new Promise((resolve, reject) => {
        execFile(
          command as string,
          args,
          { timeout: 20_000, env: fixtureEnv(driver) },
          (err, stdout, stderr) => {
            if (err !== null) reject(new Error(`${err.message}\n${stderr}`))
            else resolve(JSON.parse(stdout) as Record<string, unknown>)
          },
        )
      })
    }

    let tmp: ReturnType<typeof tempDir>
    beforeEach(() => {
      tmp = tempDir()
      const db = connect(driver, tmp.file)
      db.exec(
        'CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)',
      )
      db.close()
      chmodSync(tmp.dir, 0o755)
      if (asUser) {
        chownSync(tmp.dir, NOBODY, NOBODY)
        chownSync(tmp.file, NOBODY, NOBODY)
      }
    })
    afterEach(() => tmp.remove())

    describe('openSQLiteStore on a file this process cannot write', () => {
      it('fails at open with a StoreError naming the file, and leaves no read-only -wal or -shm behind', async () => {
        chmodSync(tmp.file, 0o444)
        const out = await runScript(tmp.file, 'at-open')
        expect(out.opened).toBeUndefined()
        expect(out.error).toMatchObject({ name: 'StoreError' })
        const message = (out.error as { message: string }).message
        expect(message).toContain(tmp.file)
        expect(message).toMatch(/not writable by this process \(EACCES\)/)
        expect([out.wal, out.shm]).toEqual([false, false])
        // Fixed, the file opens at once: nothing read-only was left to keep it read-only.
        chmodSync(tmp.file, 0o644)
        expect(await runScript(tmp.file, 'at-open')).toMatchObject({ opened: true })
      })

      it('keeps writing through a file made read-only after open, and after it is made writable again', async () => {
        const out = await runScript(tmp.file, 'later')
        expect(out).toEqual({ before: true, whileReadOnly: true, after: true, found: [1, 1, 1] })
        expect(existsSync(tmp.file)).toBe(true)
      })
    })
  })
}
