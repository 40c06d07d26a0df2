import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fixtureEnv, SQLITE_DRIVERS, TS_SPAWN_ARGV } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const SCRIPT = fileURLToPath(new URL('../fixtures/sqlite-exit.ts', import.meta.url))

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    describe('nothing sessionkit starts keeps a process alive', () => {
      it('lets a script that commits to openSQLiteStore and never closes it exit on its own', async () => {
        const tmp = tempDir()
        try {
          const started = Date.now()
          const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
            (resolve) => {
              // The kill is a backstop for the failure case only; a pass exits long before it.
              const child = execFile(
                process.execPath,
                [...TS_SPAWN_ARGV, SCRIPT, tmp.file],
                { timeout: 15_000, env: fixtureEnv(driver) },
                (err, out) =>
                  resolve({ code: err === null ? 0 : (child.exitCode ?? -1), stdout: out }),
              )
            },
          )
          expect(stdout).toBe('committed\n')
          expect(code).toBe(0)
          expect(Date.now() - started).toBeLessThan(15_000)
        } finally {
          tmp.remove()
        }
      })
    })
  })
}
