import { type ChildProcess, fork } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { StoreError } from '../../src/index.ts'
import { openSQLiteStore, SQLiteStore } from '../../src/stores/sqlite/index.ts'
import type { HttpFixtureMessage } from '../fixtures/sqlite-http.ts'
import { enc, inMs } from '../helpers/bytes.ts'
import { connect, fixtureEnv, SQLITE_DRIVERS, TS_EXEC_ARGV } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const SERVER = fileURLToPath(new URL('../fixtures/sqlite-http.ts', import.meta.url))
const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const GONE =
  /the database file ".*sessions\.db" was deleted or replaced while the store had it open/
// The in-process tests check every 20 ms; the load test keeps the default (500 ms).
const CHECK = 20

/** What a promise rejected with (undefined when it resolved). */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  )

function removeDatabase(file: string, sidecars = true): void {
  for (const f of sidecars ? [file, `${file}-wal`, `${file}-shm`] : [file])
    rmSync(f, { force: true })
}

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    let tmp: ReturnType<typeof tempDir>
    const stores: SQLiteStore[] = []
    beforeEach(() => {
      tmp = tempDir()
    })
    afterEach(async () => {
      for (const s of stores.splice(0)) {
        s.close()
        await s.whenClosed()
      }
      tmp.remove()
    })

    /** A store opened on tmp.file that checks its file every CHECK ms, and what its timers reported. */
    function open(): { store: SQLiteStore; reports: StoreError[] } {
      const reports: StoreError[] = []
      const store = openSQLiteStore(tmp.file, {
        driver,
        cleanupInterval: 0,
        fileCheckInterval: CHECK,
        onCleanupError: (err) => reports.push(err),
      })
      stores.push(store)
      return { store, reports }
    }

    /** The rows of `file`, read by a connection of the test's own, after checking the file is sound. */
    function rowsOf(file: string): string[] {
      const db = connect(driver, file, { readonly: true })
      try {
        expect(db.pragma('integrity_check')).toBe('ok')
        const rows = db.prepare('SELECT token FROM sessions ORDER BY token').all() as {
          token: string
        }[]
        return rows.map((r) => r.token)
      } finally {
        db.close()
      }
    }

    describe('openSQLiteStore when its file is deleted or replaced', () => {
      it('fails writes and reads with a StoreError naming the file, then recreates it and writes persist', async () => {
        // The report comes the moment the store stops writing: calls made from it must fail.
        const reports: StoreError[] = []
        let failures: Promise<unknown>[] = []
        let seen: () => void = () => {}
        const reported = new Promise<void>((resolve) => {
          seen = resolve
        })
        const store: SQLiteStore = openSQLiteStore(tmp.file, {
          driver,
          cleanupInterval: 0,
          fileCheckInterval: CHECK,
          onCleanupError: (err) => {
            reports.push(err)
            if (failures.length > 0) return
            failures = [
              rejection(store.commit('during', enc('lost'), inMs(60_000))),
              rejection(store.find('before')),
              rejection(store.touch('before', inMs(60_000))),
              rejection(store.delete('before')),
            ]
            seen()
          },
        })
        stores.push(store)
        await store.commit('before', enc('old'), inMs(60_000))
        removeDatabase(tmp.file)
        await reported
        expect(reports[0]?.message).toMatch(GONE)
        expect(reports[0]?.message).toContain(tmp.file)
        expect(reports[0]?.message).toMatch(/opens the file at that path again by itself/)
        expect(failures).toHaveLength(4)
        for (const err of await Promise.all(failures)) {
          expect(err).toBeInstanceOf(StoreError)
          expect((err as StoreError).message).toMatch(GONE)
        }
        // Recovery: the next check opens a new file at the path, with the schema.
        await vi.waitFor(
          async () => expect(await store.commit('after', enc('new'), inMs(60_000))).toBe(true),
          { timeout: 2_000, interval: 5 },
        )
        expect(text(await store.find('after'))).toBe('new')
        expect(await store.find('before')).toBeUndefined()
        expect(existsSync(tmp.file)).toBe(true)
        store.close()
        await store.whenClosed()
        expect(rowsOf(tmp.file)).toEqual(['after'])
        expect(reports).toHaveLength(1)
      })

      it('reopens on a file moved over its path (a restored backup) and serves that file’s sessions', async () => {
        const backup = join(tmp.dir, 'backup.db')
        const b = openSQLiteStore(backup, { driver, cleanupInterval: 0 })
        await b.commit('restored', enc('from backup'), inMs(60_000))
        b.close()
        await b.whenClosed()
        const { store, reports } = open()
        await store.commit('replaced', enc('old'), inMs(60_000))
        renameSync(backup, tmp.file)
        await vi.waitFor(
          async () => expect(text(await store.find('restored'))).toBe('from backup'),
          {
            timeout: 2_000,
            interval: 5,
          },
        )
        expect(reports[0]?.message).toMatch(GONE)
        expect(await store.find('replaced')).toBeUndefined()
        await store.commit('later', enc('new'), inMs(60_000))
        store.close()
        await store.whenClosed()
        expect(rowsOf(tmp.file)).toEqual(['later', 'restored'])
      })

      it('starts a sound new file when only the database was deleted and its -wal and -shm were left behind', async () => {
        const reports: StoreError[] = []
        // Without the checkpoint thread the rows stay in the WAL: the old WAL is full of them.
        const store = openSQLiteStore(tmp.file, {
          driver,
          cleanupInterval: 0,
          fileCheckInterval: CHECK,
          checkpointThread: false,
          onCleanupError: (err) => reports.push(err),
        })
        stores.push(store)
        for (let i = 0; i < 50; i++) await store.commit(`old${i}`, enc('x'), inMs(60_000))
        expect(existsSync(`${tmp.file}-wal`)).toBe(true)
        removeDatabase(tmp.file, false)
        await vi.waitFor(() => expect(reports).toHaveLength(1), { timeout: 2_000, interval: 5 })
        await vi.waitFor(
          async () => expect(await store.commit('new', enc('y'), inMs(60_000))).toBe(true),
          { timeout: 2_000, interval: 5 },
        )
        expect(await store.find('old0')).toBeUndefined()
        store.close()
        await store.whenClosed()
        // The old WAL was not replayed into the new file.
        expect(rowsOf(tmp.file)).toEqual(['new'])
      })

      it('says the folder is missing while it is, and reopens once it is back', async () => {
        const nested = join(tmp.dir, 'data')
        mkdirSync(nested)
        const file = join(nested, 'sessions.db')
        const reports: StoreError[] = []
        const store = openSQLiteStore(file, {
          driver,
          cleanupInterval: 0,
          fileCheckInterval: CHECK,
          onCleanupError: (err) => reports.push(err),
        })
        stores.push(store)
        rmSync(nested, { recursive: true })
        await vi.waitFor(() => expect(reports.length).toBeGreaterThanOrEqual(2), {
          timeout: 2_000,
          interval: 5,
        })
        const missing = /the folder .*data does not exist: create it/
        expect(reports[1]?.message).toMatch(missing)
        const err = await rejection(store.commit('k', enc('v'), inMs(60_000)))
        expect((err as StoreError).message).toMatch(missing)
        // Said once, not at every check.
        const said = reports.length
        mkdirSync(nested)
        await vi.waitFor(
          async () => expect(await store.commit('k', enc('v'), inMs(60_000))).toBe(true),
          { timeout: 2_000, interval: 5 },
        )
        expect(reports).toHaveLength(said)
        store.close()
        await store.whenClosed()
        expect(rowsOf(file)).toEqual(['k'])
      })
    })

    describe('SQLiteStore#fileCheckInterval: a connection of the user’s, checks off, the timer', () => {
      it('fails calls with a StoreError saying to open a new connection, and does not reopen', async () => {
        const setup = openSQLiteStore(tmp.file, { driver, cleanupInterval: 0 })
        setup.close()
        await setup.whenClosed()
        const db = connect(driver, tmp.file)
        const reports: StoreError[] = []
        const store = new SQLiteStore(db, {
          cleanupInterval: 0,
          fileCheckInterval: CHECK,
          onCleanupError: (err) => reports.push(err),
        })
        try {
          await store.commit('k', enc('v'), inMs(60_000))
          removeDatabase(tmp.file)
          await vi.waitFor(() => expect(reports).toHaveLength(1), { timeout: 2_000, interval: 5 })
          const own = /cannot reopen a connection it did not open: open a new connection/
          expect(reports[0]?.message).toMatch(own)
          // A file back at the path changes nothing: this store cannot open it.
          openSQLiteStore(tmp.file, { driver, cleanupInterval: 0 }).close()
          await new Promise((resolve) => setTimeout(resolve, CHECK * 5))
          for (const call of [store.commit('k', enc('v'), inMs(60_000)), store.find('k')]) {
            const err = await rejection(call)
            expect(err).toBeInstanceOf(StoreError)
            expect((err as StoreError).message).toMatch(own)
          }
        } finally {
          store.close()
          db.close()
        }
      })

      it('checks nothing with fileCheckInterval: 0, and validates the option', async () => {
        const db = connect(driver, tmp.file)
        // In WAL mode SQLite itself writes on into a deleted file (it refuses only in rollback mode).
        db.pragma('journal_mode = WAL')
        try {
          using store = new SQLiteStore(db, { cleanupInterval: 0, fileCheckInterval: 0 })
          removeDatabase(tmp.file)
          await new Promise((resolve) => setTimeout(resolve, 50))
          expect(await store.commit('k', enc('v'), inMs(60_000))).toBe(true)
          expect(() => new SQLiteStore(db, { fileCheckInterval: -1 })).toThrow(/fileCheckInterval/)
          expect(() => new SQLiteStore(db, { fileCheckInterval: 2 ** 31 })).toThrow(
            /fileCheckInterval/,
          )
        } finally {
          db.close()
        }
      })

      it('checks on an unref’d timer that close() stops', () => {
        const set = vi.spyOn(globalThis, 'setInterval')
        const clear = vi.spyOn(globalThis, 'clearInterval')
        try {
          const { store } = open()
          const index = set.mock.calls.findIndex((call) => call[1] === CHECK)
          const timer = set.mock.results[index]?.value as NodeJS.Timeout
          expect(timer.hasRef()).toBe(false)
          expect(clear).not.toHaveBeenCalledWith(timer)
          store.close()
          expect(clear).toHaveBeenCalledWith(timer)
        } finally {
          set.mockRestore()
          clear.mockRestore()
        }
      })
    })

    describe('an HTTP server in another process whose file is deleted under load', () => {
      const children: ChildProcess[] = []
      afterEach(() => {
        for (const child of children.splice(0)) {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
        }
      })

      it('answers 500 within a second or two, recovers, and loses only writes from before the check noticed', async () => {
        const child = fork(SERVER, [tmp.file], {
          execArgv: TS_EXEC_ARGV,
          env: fixtureEnv(driver),
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        children.push(child)
        child.on('error', () => {})
        const reports: { message: string; at: number }[] = []
        const port = await new Promise<number>((resolve, reject) => {
          child.once('error', reject)
          child.on('message', (m: HttpFixtureMessage) => {
            if (m.type === 'ready') resolve(m.port)
            if (m.type === 'report') reports.push(m)
          })
        })

        type Result = {
          n: number
          start: number
          end: number
          status: number
          token?: string
          body: string
        }
        const results: Result[] = []
        let next = 0
        let deletedAt: number | undefined
        let stop = false
        let failedAt: number | undefined
        let recoveredCount = 0
        const deadline = Date.now() + 20_000
        const firstFailure = (): Result | undefined => results.find((r) => r.status === 500)
        const okAfter = (t: number): Result[] =>
          results.filter((r) => r.status === 200 && r.start > t)
        async function client(): Promise<void> {
          while (!stop && Date.now() < deadline && next < 50_000) {
            const n = next++
            const start = Date.now()
            const res = await fetch(`http://127.0.0.1:${port}/put?n=${n}`)
            const body = await res.text()
            const token = /session=([\w-]{43})/.exec(res.headers.get('set-cookie') ?? '')?.[1]
            const result: Result = { n, start, end: Date.now(), status: res.status, body }
            if (token !== undefined) result.token = token
            results.push(result)
            if (deletedAt === undefined && results.length >= 300) {
              // The deploy script's mistake: the database and its WAL files, mid-load.
              deletedAt = Date.now()
              removeDatabase(tmp.file)
            }
            if (result.status === 500) failedAt ??= result.end
            else if (failedAt !== undefined && start > failedAt && ++recoveredCount >= 300)
              stop = true
          }
        }
        await Promise.all(Array.from({ length: 8 }, client))
        const closed = new Promise<void>((resolve) =>
          child.on('message', (m: HttpFixtureMessage) => m.type === 'closed' && resolve()),
        )
        child.send('close')
        await closed

        expect(deletedAt).toBeDefined()
        const deleted = deletedAt as number
        const failed = firstFailure()
        expect(failed, 'a write failed after the deletion').toBeDefined()
        const failure = failed as Result
        expect(failure.body).toMatch(GONE)
        expect(failure.end - deleted).toBeLessThan(2_000)
        expect(results.filter((r) => r.status !== 200 && r.status !== 500)).toEqual([])
        const recovered = okAfter(failure.end)
        expect(recovered.length).toBeGreaterThanOrEqual(300)
        expect((recovered[0] as Result).end - failure.end).toBeLessThan(2_000)
        expect(reports[0]?.message).toMatch(GONE)

        const stored = new Set(rowsOf(tmp.file))
        // Every write answered 200 after the server was seen failing is in the new file…
        expect(recovered.filter((r) => !stored.has(r.token as string))).toEqual([])
        // …those answered before the deletion are not (they went into the deleted file)…
        const before = results.filter((r) => r.status === 200 && r.end < deleted)
        expect(before.length).toBeGreaterThan(0)
        expect(before.filter((r) => stored.has(r.token as string))).toEqual([])
        // …and the writes lost are only those in the window before the check noticed.
        const lost = results.filter(
          (r) => r.status === 200 && r.end >= deleted && !stored.has(r.token as string),
        )
        for (const r of lost) expect(r.start).toBeLessThan(failure.end)
        const window = (reports[0]?.at ?? failure.end) - deleted
        // What the issue asks to measure, for the record of each run.
        console.info(
          `${results.length} requests; detected ${window} ms after the deletion; ${lost.length} writes answered 200 in that window were lost; ${results.filter((r) => r.status === 500).length} answered 500; first 500 after ${failure.end - deleted} ms, first 200 again ${(recovered[0] as Result).end - failure.end} ms later`,
        )
      })
    })
  })
}
