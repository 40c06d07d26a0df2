import { execFileSync, fork } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { StoreError } from '../../src/index.ts'
import { sqliteCode } from '../../src/stores/sqlite/errors.ts'
import { openSQLiteStore } from '../../src/stores/sqlite/index.ts'
import { fixtureEnv, SQLITE_DRIVERS, TS_EXEC_ARGV } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const LOCKER = fileURLToPath(new URL('../fixtures/sqlite-locker.ts', import.meta.url))
const inHour = () => new Date(Date.now() + 3_600_000)
const row = new Uint8Array(2_000).fill(7)

// A small tmpfs is the real full disk; mounting one takes root (CI runs as root).
const root = process.getuid?.() === 0
const mountable = (() => {
  if (!root) return false
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-mount-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
    execFileSync('umount', [dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})()
if (!mountable && process.env.CI === 'true') {
  it('can mount a small tmpfs for the disk-full test', () => {
    throw new Error('the disk-full test needs root and mount(8) for a 3 MiB tmpfs')
  })
} else if (!mountable) {
  console.warn('skipping the SQLite disk-full test: it needs root to mount a small tmpfs')
}

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    describe.skipIf(!mountable)('SQLiteStore on a full disk (a 3 MiB tmpfs)', () => {
      it('fails fast while the disk is full, then gives the WAL back and keeps writing once space is freed', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'sessionkit-full-'))
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir])
        const store = openSQLiteStore(join(dir, 'sessions.db'), { driver, cleanupInterval: 0 })
        try {
          const filler = join(dir, 'filler')
          writeFileSync(filler, new Uint8Array(400_000))
          let written = 0
          let failure: StoreError | undefined
          while (failure === undefined && written < 10_000) {
            await store.commit(`k${written}`, row, inHour()).then(
              () => written++,
              (err: StoreError) => {
                failure = err
              },
            )
          }
          expect(sqliteCode(failure?.cause)).toBe('SQLITE_FULL')
          // During the fault, writes fail at once and never touch the file.
          const started = performance.now()
          for (let i = 0; i < 50; i++) {
            await expect(store.commit(`full${i}`, row, inHour())).rejects.toMatchObject({
              code: 'ERR_STORE',
            })
          }
          expect(performance.now() - started).toBeLessThan(1_000)

          rmSync(filler)
          let after = 0
          let failedAfter = 0
          const freed = performance.now()
          for (let i = 0; i < 600 && performance.now() - freed < 15_000; i++) {
            await store.commit(`n${i}`, row, inHour()).then(
              () => after++,
              () => failedAfter++,
            )
            if (after === 0) await new Promise((resolve) => setTimeout(resolve, 10))
          }
          // The WAL's old frames went back to the disk: far more than the 400 KB freed would
          // hold as WAL frames (about 20 writes before this fix), and none of the earlier rows lost.
          expect(after).toBeGreaterThan(300)
          for (const k of ['k0', `k${written - 1}`]) expect(await store.find(k)).toBeDefined()
          console.log(
            `disk full: ${written} writes filled it; after freeing 400 KB, ${after} of ${after + failedAfter} writes went through; WAL ${statSync(join(dir, 'sessions.db-wal')).size} bytes`,
          )
        } finally {
          store.close()
          await new Promise((resolve) => setTimeout(resolve, 200))
          execFileSync('umount', ['-l', dir])
          rmSync(dir, { recursive: true, force: true })
        }
      })
    })

    describe('SQLiteStore while another process holds a long read transaction', () => {
      it('says once, through onCleanupError, that the WAL has grown past its limit and why', async () => {
        const tmp = tempDir()
        const warnings: StoreError[] = []
        const store = openSQLiteStore(tmp.file, {
          driver,
          cleanupInterval: 0,
          walLimitPages: 64,
          onCleanupError: (err) => warnings.push(err),
        })
        await store.commit('seed', row, inHour())
        const child = fork(LOCKER, [tmp.file], {
          execArgv: TS_EXEC_ARGV,
          env: fixtureEnv(driver),
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        child.on('error', () => {})
        const said = (what: string) =>
          new Promise<void>((resolve) => child.on('message', (m) => m === what && resolve()))
        try {
          await said('ready')
          const reading = said('reading')
          child.send('read')
          await reading
          const started = Date.now()
          for (let i = 0; warnings.length === 0 && Date.now() - started < 15_000; i++) {
            await store.commit(`w${i % 500}`, row, inHour())
            if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 20))
          }
          // More writes in the same episode add no second warning.
          for (let i = 0; i < 200; i++) await store.commit(`x${i}`, row, inHour())
          await new Promise((resolve) => setTimeout(resolve, 300))
          expect(warnings).toHaveLength(1)
          expect(warnings[0]?.message).toMatch(/WAL of .* is \d+\.\d MiB, past its 0\.3 MiB limit/)
          expect(warnings[0]?.message).toMatch(/read transaction/)
        } finally {
          child.send('exit')
          store.close()
          tmp.remove()
        }
      })
    })
  })
}
