import { type ChildProcess, fork } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/node.ts'
import { SessionManager, type StoreError } from '../../src/index.ts'
import { sqliteCode } from '../../src/stores/sqlite/errors.ts'
import { openSQLiteStore, type SQLiteStore } from '../../src/stores/sqlite/index.ts'
import { enc } from '../helpers/bytes.ts'
import { Client, serve } from '../helpers/http.ts'
import { fixtureEnv, SQLITE_DRIVERS, TS_EXEC_ARGV } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const LOCKER = fileURLToPath(new URL('../fixtures/sqlite-locker.ts', import.meta.url))
const text = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    /** A second process that takes and releases the file's write lock when told to. */
    function locker(file: string) {
      const child: ChildProcess = fork(LOCKER, [file], {
        execArgv: TS_EXEC_ARGV,
        env: fixtureEnv(driver),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      child.on('error', () => {})
      const next = (expected: string) =>
        new Promise<void>((resolve) => {
          const on = (m: unknown) => {
            if (m !== expected) return
            child.off('message', on)
            resolve()
          }
          child.on('message', on)
        })
      const ready = next('ready')
      return {
        ready,
        lock: async () => {
          const locked = next('locked')
          child.send('lock')
          await locked
        },
        release: async () => {
          const released = next('released')
          child.send('release')
          await released
        },
        stop: () => {
          if (child.connected) child.send('exit')
        },
      }
    }

    // Bounds loose enough for a shared 2-core machine; the blocking driver wait they replace
    // stalled the loop for the whole busy timeout (seconds).
    const STALL_BOUND_MS = 100

    let tmp: ReturnType<typeof tempDir>
    let store: SQLiteStore
    let other: ReturnType<typeof locker>
    beforeEach(async () => {
      tmp = tempDir()
      store = openSQLiteStore(tmp.file, { driver, busyTimeout: 3_000, cleanupInterval: 0 })
      await store.commit('existing', enc('before'), inMinutes(5))
      other = locker(tmp.file)
      await other.ready
    })
    afterEach(() => {
      other.stop()
      store.close()
      tmp.remove()
    })

    describe('SQLiteStore while another process holds the write lock', () => {
      it('lets writes wait on timers while reads and the event loop run on, then writes once the lock is free', async () => {
        await other.lock()
        const delay = monitorEventLoopDelay({ resolution: 5 })
        delay.enable()
        const waiting = store.commit('w', enc('waited'), inMinutes(5))
        let settled = false
        void waiting.then(() => {
          settled = true
        })
        // The lock stays held for 300 ms while reads keep coming, as requests would.
        let slowestRead = 0
        let reads = 0
        const held = performance.now()
        while (performance.now() - held < 300) {
          const t0 = performance.now()
          expect(text(await store.find('existing'))).toBe('before')
          slowestRead = Math.max(slowestRead, performance.now() - t0)
          reads++
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        expect(settled).toBe(false)
        await other.release()
        const released = performance.now()
        expect(await waiting).toBe(true)
        const afterRelease = performance.now() - released
        delay.disable()
        expect(text(await store.find('w'))).toBe('waited')
        console.log(
          `lock held by another process for 300 ms: slowest of ${reads} reads ${slowestRead.toFixed(2)} ms, the waiting write landed ${afterRelease.toFixed(1)} ms after release, largest event-loop delay ${(delay.max / 1e6).toFixed(1)} ms`,
        )
        expect(slowestRead).toBeLessThan(STALL_BOUND_MS)
        expect(afterRelease).toBeLessThan(STALL_BOUND_MS)
        expect(delay.max / 1e6).toBeLessThan(STALL_BOUND_MS)
      })

      it('rejects a write with SQLITE_BUSY once its busy timeout has run out, without stalling the loop', async () => {
        const impatient = openSQLiteStore(tmp.file, {
          driver,
          busyTimeout: 300,
          cleanupInterval: 0,
        })
        await other.lock()
        const delay = monitorEventLoopDelay({ resolution: 5 })
        delay.enable()
        const started = performance.now()
        const err = (await impatient
          .commit('w', enc('x'), inMinutes(5))
          .catch((e) => e)) as StoreError
        const took = performance.now() - started
        delay.disable()
        await other.release()
        impatient.close()
        expect(err.code).toBe('ERR_STORE')
        expect(sqliteCode(err.cause)).toBe('SQLITE_BUSY')
        expect(err.message).toMatch(/busy timeout/)
        expect(took).toBeGreaterThanOrEqual(290)
        expect(delay.max / 1e6).toBeLessThan(STALL_BOUND_MS)
        // Nothing stays stuck: the next write goes straight through.
        expect(await store.commit('w', enc('y'), inMinutes(5))).toBe(true)
      })

      it('keeps a route that never touches sessions, and session reads, fast over HTTP while writes wait', async () => {
        const sessions = new SessionManager<{ n: number }>({ store })
        const seeded = await sessions.load('')
        seeded.put('n', 1)
        const { token } = await sessions.commit(seeded)
        const server = await serve(
          loadAndSave(sessions, (req, res) => {
            const session = sessions.from(req)
            if (req.url === '/put') session.put('n', session.getNumber('n') + 1)
            res.end(String(session.getNumber('n')))
          }),
        )
        const client = new Client(server.url)
        try {
          await other.lock()
          const put = client.get('/put', { headers: { cookie: `session=${token}` } })
          const times: number[] = []
          for (let i = 0; i < 10; i++) {
            const t0 = performance.now()
            const res = await client.get('/get', { headers: { cookie: `session=${token}` } })
            times.push(performance.now() - t0)
            expect(res.body).toBe('1')
          }
          await other.release()
          expect((await put).status).toBe(200)
          expect(Math.max(...times)).toBeLessThan(STALL_BOUND_MS)
          expect((await client.get('/get', { headers: { cookie: `session=${token}` } })).body).toBe(
            '2',
          )
        } finally {
          await server.close()
        }
      })
    })
  })
}
