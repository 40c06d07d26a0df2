import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CONTENDERS, ServerProcess } from '../../bench/lib/contenders.ts'
import { checkRoundTrip, createSessions } from '../../bench/lib/seed-sessions.ts'
import { connectSqlite3Missing } from '../helpers/connect-sqlite3.ts'

// The benchmark's numbers mean something only if every contender serves the seed app correctly;
// this starts each server the way `npm run bench` does and checks it, without any load.
describe('npm run bench contenders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-smoke-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const cs3Missing = connectSqlite3Missing()
  for (const contender of CONTENDERS.filter((c) => c.store !== 'none')) {
    const missing = contender.installedOnDemand === undefined ? undefined : cs3Missing
    const title = `${contender.label} stores /put's message and serves it back on /get`
    it.skipIf(missing !== undefined)(
      missing === undefined ? title : `${title} (skipped: ${missing})`,
      async () => {
        const db = contender.store === 'sqlite' ? join(dir, `${contender.id}.db`) : undefined
        const server = await ServerProcess.start(contender, { db })
        try {
          const cookies = await createSessions(server.port, 3)
          expect(new Set(cookies).size).toBe(3)
          for (const cookie of cookies) await checkRoundTrip(server.port, cookie)
        } finally {
          await server.stop()
        }
      },
    )
  }
})
