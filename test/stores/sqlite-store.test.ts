import { existsSync, rmSync, statSync } from 'node:fs'
import fc from 'fast-check'
import * as vitest from 'vitest'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SessionManager, StoreError } from '../../src/index.ts'
import { sqliteCode } from '../../src/stores/sqlite/errors.ts'
import {
  goTimeString,
  openSQLiteStore,
  SQLiteStore,
  type SQLiteStoreOptions,
} from '../../src/stores/sqlite/index.ts'
import { describeStoreConformance } from '../../src/testing/index.ts'
import { enc, inMs } from '../helpers/bytes.ts'
import { connect, SQLITE_DRIVERS, type TestDatabase } from '../helpers/sqlite-drivers.ts'
import { GO_SQL, goFormat, tempDir } from '../helpers/sqlite-temp.ts'

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const SCHEMA = [
  'CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)',
  'CREATE INDEX sessions_expiry_idx ON sessions(expiry)',
]

/** The StoreError a promise rejected with, checked to carry a SQLite error in `cause`. */
async function storeError(p: Promise<unknown>): Promise<StoreError & { sqlite: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(StoreError)
  // The SQLite code however the driver spells it (better-sqlite3 and Bun by name, node:sqlite by number).
  return Object.assign(err as StoreError, { sqlite: sqliteCode((err as StoreError).cause) ?? '' })
}

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`SQLiteStore on ${title}`, () => {
    describeStoreConformance(
      vitest,
      `SQLiteStore on ${driver}`,
      SQLiteStore,
      async () => {
        const tmp = tempDir()
        const db = connect(driver, tmp.file)
        db.pragma('journal_mode = WAL')
        const store = new SQLiteStore(db, { cleanupInterval: 0 })
        return {
          store,
          reset: async () => {
            db.exec('DELETE FROM sessions')
          },
          close: () => {
            store.close()
            db.close()
            tmp.remove()
          },
        }
      },
      { sweep: (store) => store.deleteExpired() },
    )

    // Each test gets a fresh file with Go's schema, as sqlite3store_test.go recreates it.
    let tmp: ReturnType<typeof tempDir>
    let db: TestDatabase
    let store: SQLiteStore
    beforeEach(() => {
      tmp = tempDir()
      db = connect(driver, tmp.file)
      db.pragma('journal_mode = WAL')
      for (const sql of SCHEMA) db.exec(sql)
      // Go made the file; the store adds only its ended-keys table beside Go's.
      store = new SQLiteStore(db, { cleanupInterval: 0 })
    })
    afterEach(() => {
      store.close()
      try {
        db.close()
      } catch {
        // Closed by the test.
      }
      tmp.remove()
    })

    const count = (): number =>
      (db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n
    const rawData = (token: string): string | undefined => {
      const row = db.prepare('SELECT data FROM sessions WHERE token = ?').get(token) as
        | { data: Uint8Array | string }
        | undefined
      if (row == null) return undefined
      return typeof row.data === 'string' ? row.data : new TextDecoder().decode(row.data)
    }
    const rawExpiry = (token: string): unknown =>
      (db.prepare('SELECT expiry FROM sessions WHERE token = ?').get(token) as { expiry: unknown })
        .expiry

    describe('SQLiteStore (SCS sqlite3store tests, §7.5)', () => {
      it('finds a fixture row with a Julian-day expiry one minute ahead (TestFind)', async () => {
        db.exec(
          `INSERT INTO sessions VALUES ('session_token', 'encoded_data', julianday('now', '+1 minute'))`,
        )
        expect(text(await store.find('session_token'))).toBe('encoded_data')
      })

      it('treats a TEXT expiry from datetime() as never expired, as Go does (the §6.1 quirk)', async () => {
        db.exec(
          `INSERT INTO sessions VALUES ('text_expiry', 'encoded_data', datetime(current_timestamp, '-1 minute'))`,
        )
        expect(text(await store.find('text_expiry'))).toBe('encoded_data')
        expect(await store.deleteExpired()).toBe(0)
        expect(count()).toBe(1)
      })

      it('resolves undefined for a missing token (TestFindMissing)', async () => {
        expect(await store.find('missing_session_token')).toBeUndefined()
      })

      it('writes a new row that a raw SELECT reads back (TestSaveNew)', async () => {
        await store.commit('session_token', enc('encoded_data'), inMs(60_000))
        expect(rawData('session_token')).toBe('encoded_data')
      })

      it('overwrites the fixture row without a mode (TestSaveUpdated)', async () => {
        db.exec(
          `INSERT INTO sessions VALUES ('session_token', 'encoded_data', julianday('now', '+1 minute'))`,
        )
        await store.commit('session_token', enc('new_encoded_data'), inMs(60_000))
        expect(rawData('session_token')).toBe('new_encoded_data')
      })

      it('stops finding a session once its expiry passes on SQLite’s clock (TestExpiry)', async () => {
        await store.commit('session_token', enc('encoded_data'), inMs(100))
        expect(text(await store.find('session_token'))).toBe('encoded_data')
        await sleep(150)
        expect(await store.find('session_token')).toBeUndefined()
      })

      it('removes a deleted row (TestDelete)', async () => {
        await store.commit('session_token', enc('encoded_data'), inMs(60_000))
        await store.delete('session_token')
        expect(count()).toBe(0)
      })

      it('deletes expired rows on its cleanup interval (TestCleanup)', async () => {
        using cleaning = new SQLiteStore(db, { cleanupInterval: 20, createTable: false })
        await cleaning.commit('session_token', enc('encoded_data'), inMs(-1_000))
        expect(count()).toBe(1)
        await vi.waitFor(() => expect(count()).toBe(0), { timeout: 2_000, interval: 10 })
        await cleaning.stopCleanup()
      })

      it('resolves stopCleanup at once with cleanup disabled, twice (TestStopNilCleanup)', async () => {
        await expect(store.stopCleanup()).resolves.toBeUndefined()
        await expect(store.stopCleanup()).resolves.toBeUndefined()
      })

      it("refuses an 'insert' over a live row but takes over an expired one", async () => {
        await store.commit('k', enc('old'), inMs(-1_000))
        expect(await store.commit('k', enc('new'), inMs(60_000), 'insert')).toBe(true)
        expect(text(await store.find('k'))).toBe('new')
        expect(await store.commit('k', enc('again'), inMs(60_000), 'insert')).toBe(false)
        expect(text(await store.find('k'))).toBe('new')
      })

      it('touches only a live row and leaves its data bytes unchanged', async () => {
        await store.commit('k', enc('kept'), inMs(-1_000))
        expect(await store.touch('k', inMs(60_000))).toBe(false)
        await store.commit('k', enc('kept'), inMs(60_000))
        const before = rawExpiry('k') as number
        expect(await store.touch('k', inMs(120_000))).toBe(true)
        expect(rawExpiry('k') as number).toBeGreaterThan(before)
        expect(rawData('k')).toBe('kept')
      })
    })

    describe('SQLiteStore on the same file as Go’s sqlite3store', () => {
      const goCommit = (token: string, data: string, expiry: Date) =>
        goRun('commit', 'run', token, enc(data), goFormat(expiry))

      it('keeps its owner index in step with Go’s Destroy, cleanup and REPLACE INTO, on Go’s own table', async () => {
        const sessions = new SessionManager<{ userId: number }>({ store, owner: 'userId' })
        const tokens: string[] = []
        for (let i = 0; i < 4; i++) {
          const s = await sessions.load('')
          s.put('userId', 7)
          tokens.push((await sessions.commit(s)).token)
        }
        const [destroyed, expired, rewritten, kept] = tokens as [string, string, string, string]
        expect(await sessions.listOwned(7)).toHaveLength(4)
        // Go's Destroy, Go's REPLACE INTO of a session with a past expiry, then Go's cleanup.
        goRun('delete', 'run', destroyed)
        goCommit(expired, 'go wrote this', new Date(Date.now() - 5_000))
        expect((await sessions.listOwned(7)).length).toBe(2)
        expect(goRun('cleanup', 'run')).toEqual(expect.objectContaining({ changes: 1 }))
        // Go rewriting a live session (REPLACE INTO) keeps it listed.
        goCommit(rewritten, 'go rewrote this', new Date(Date.now() + 60_000))
        const listed = await sessions.listOwned(7)
        expect(listed).toHaveLength(2)
        const owners = db.prepare('SELECT token FROM sessions_owners ORDER BY token').all() as {
          token: string
        }[]
        expect(owners.map((r) => r.token)).toEqual([rewritten, kept].sort())
        const schema = db
          .prepare(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sessions'`)
          .get() as { sql: string }
        expect(schema.sql).toBe(
          'CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)',
        )
      })
      const goFind = (token: string): string | undefined => {
        const row = goRun('find', 'get', token) as { data: Uint8Array } | null | undefined
        return row == null ? undefined : new TextDecoder().decode(row.data)
      }

      it('formats expiries as Go’s "2006-01-02T15:04:05.999" layout', () => {
        expect(goTimeString(new Date('2024-01-02T15:04:05.123Z'))).toBe('2024-01-02T15:04:05.123')
        expect(goTimeString(new Date('2024-01-02T15:04:05.100Z'))).toBe('2024-01-02T15:04:05.1')
        expect(goTimeString(new Date('2024-01-02T15:04:05.120Z'))).toBe('2024-01-02T15:04:05.12')
        expect(goTimeString(new Date('2024-01-02T15:04:05.000Z'))).toBe('2024-01-02T15:04:05')
        expect(goTimeString(new Date('0412-03-04T05:06:07.089Z'))).toBe('0412-03-04T05:06:07.089')
      })

      it('stores bit-identical REAL expiries to Go’s REPLACE INTO … julianday($3), over random instants', async () => {
        const ms = fc.integer({
          min: Date.parse('0000-01-01T00:00:00Z'),
          max: Date.parse('9999-12-31T23:59:59.999Z'),
        })
        await fc.assert(
          fc.asyncProperty(ms, async (t) => {
            const at = new Date(t)
            expect(goTimeString(at)).toBe(goFormat(at))
            await store.commit('ours', enc('x'), at)
            goCommit('go', 'x', at)
            const ours = rawExpiry('ours')
            expect(typeof ours).toBe('number')
            expect(Object.is(ours, rawExpiry('go'))).toBe(true)
            // SQLite keeps whole milliseconds: the REAL is the exact Julian-day millisecond over 86400000.
            expect(ours).toBe((t + 210_866_760_000_000) / 86_400_000)
          }),
          { numRuns: 2_000 },
        )
      })

      it('finds, lists and cleans rows Go wrote, and removes exactly Go’s expired ones', async () => {
        goCommit('go_live', 'live', inMs(60_000))
        goCommit('go_expired', 'expired', inMs(-60_000))
        goCommit('go_just_expired', 'expired', inMs(-1))
        expect(text(await store.find('go_live'))).toBe('live')
        expect(await store.find('go_expired')).toBeUndefined()
        expect([...(await store.all()).keys()]).toEqual(['go_live'])
        expect(await store.deleteExpired()).toBe(2)
        expect(
          (db.prepare('SELECT token FROM sessions').all() as { token: string }[]).map(
            (r) => r.token,
          ),
        ).toEqual(['go_live'])
      })

      it('writes rows Go finds, lists and cleans, and Go removes exactly our expired ones', async () => {
        await store.commit('ours_live', enc('live'), inMs(60_000))
        await store.commit('ours_expired', enc('expired'), inMs(-60_000))
        await store.commit('ours_just_expired', enc('expired'), inMs(-1))
        expect(goFind('ours_live')).toBe('live')
        expect(goFind('ours_expired')).toBeUndefined()
        const goAll = goRun('all', 'all') as { token: string }[]
        expect(goAll.map((r) => r.token)).toEqual(['ours_live'])
        expect(goRun('cleanup', 'run')).toEqual(expect.objectContaining({ changes: 2 }))
        expect(text(await store.find('ours_live'))).toBe('live')
        goRun('delete', 'run', 'ours_live')
        expect(await store.find('ours_live')).toBeUndefined()
      })
    })

    describe('SQLiteStore#deleteExpired', () => {
      it('deletes 20k expired rows in batches, yielding to the event loop, and keeps live rows', async () => {
        const insert = db.prepare(`INSERT INTO sessions VALUES (?, x'00', julianday('now', ?))`)
        db.exec('BEGIN')
        for (let i = 0; i < 20_000; i++) insert.run(`expired_${i}`, '-1 minute')
        for (let i = 0; i < 100; i++) insert.run(`live_${i}`, '+1 minute')
        db.exec('COMMIT')
        using batched = new SQLiteStore(db, { cleanupInterval: 0, cleanupBatchSize: 1_000 })
        let turns = 0
        const ticker = setInterval(() => turns++, 0)
        const [deleted, joined] = await Promise.all([
          batched.deleteExpired(),
          batched.deleteExpired(),
        ])
        clearInterval(ticker)
        expect(deleted).toBe(20_000)
        expect(joined).toBe(20_000)
        expect(turns).toBeGreaterThan(0)
        expect(count()).toBe(100)
        expect((await batched.all()).size).toBe(100)
        expect(await batched.deleteExpired()).toBe(0)
      })

      it('stopCleanup ends a timed sweep after its batch and resolves once it has stopped', async () => {
        const insert = db.prepare(`INSERT INTO sessions VALUES (?, x'00', julianday('now', ?))`)
        db.exec('BEGIN')
        for (let i = 0; i < 20_000; i++) insert.run(`expired_${i}`, '-1 minute')
        db.exec('COMMIT')
        // One row a batch, each batch a turn of the event loop: the sweep outlasts the test.
        using timed = new SQLiteStore(db, { cleanupInterval: 1, cleanupBatchSize: 1 })
        await vi.waitFor(() => expect(count()).toBeLessThan(20_000), {
          timeout: 2_000,
          interval: 1,
        })
        await timed.stopCleanup()
        const left = count()
        expect(left).toBeGreaterThan(0)
        // Many turns and timer intervals later, the sweep has not taken another row.
        for (let i = 0; i < 100; i++) await new Promise(setImmediate)
        await sleep(20)
        expect(count()).toBe(left)
        // Only the timer's sweep was ended: one asked for runs to its end.
        expect(await timed.deleteExpired()).toBe(left)
        expect(count()).toBe(0)
      })

      it('stopCleanup lets a sweep deleteExpired() started run to its end, then resolves', async () => {
        const insert = db.prepare(`INSERT INTO sessions VALUES (?, x'00', julianday('now', ?))`)
        db.exec('BEGIN')
        for (let i = 0; i < 500; i++) insert.run(`expired_${i}`, '-1 minute')
        db.exec('COMMIT')
        using asked = new SQLiteStore(db, { cleanupInterval: 0, cleanupBatchSize: 10 })
        const sweep = asked.deleteExpired()
        await asked.stopCleanup()
        expect(count()).toBe(0)
        expect(await sweep).toBe(500)
      })

      it('logs a failed timed cleanup through onCleanupError and keeps the process up', async () => {
        const onCleanupError = vi.fn()
        const failing = new SQLiteStore(db, { cleanupInterval: 10, onCleanupError })
        db.exec('DROP TABLE sessions')
        await vi.waitFor(() => expect(onCleanupError).toHaveBeenCalled(), { timeout: 2_000 })
        failing.close()
        expect(onCleanupError.mock.calls[0]?.[0]).toBeInstanceOf(StoreError)
      })
    })

    describe('SQLiteStore errors', () => {
      it('rejects with a StoreError saying to create the table when createTable is false', async () => {
        db.exec('DROP TABLE sessions')
        const err = await storeError(store.find('k'))
        expect(err.sqlite).toBe('SQLITE_ERROR')
        expect(err.message).toMatch(/does not exist.*createTable: true/)
        for (const sql of SCHEMA) db.exec(sql)
        await store.commit('k', enc('v'), inMs(60_000))
        expect(text(await store.find('k'))).toBe('v')
      })

      it('rejects writes to a read-only database with SQLITE_READONLY and keeps reading', async () => {
        await store.commit('k', enc('before'), inMs(60_000))
        const ro = connect(driver, tmp.file, { readonly: true })
        try {
          using readOnly = new SQLiteStore(ro, { cleanupInterval: 0 })
          const err = await storeError(readOnly.commit('k', enc('after'), inMs(60_000)))
          expect(err.sqlite).toBe('SQLITE_READONLY')
          expect(err.message).toMatch(/read-only: open it writable/)
          expect(text(await readOnly.find('k'))).toBe('before')
        } finally {
          ro.close()
        }
      })

      it('rejects with SQLITE_BUSY when another connection holds the write lock past the timeout', async () => {
        db.close()
        const busy = openSQLiteStore(tmp.file, { driver, busyTimeout: 50, cleanupInterval: 0 })
        const other = connect(driver, tmp.file)
        try {
          await busy.commit('k', enc('before'), inMs(60_000))
          other.exec('BEGIN EXCLUSIVE')
          const err = await storeError(busy.commit('k', enc('after'), inMs(60_000)))
          expect(err.sqlite).toBe('SQLITE_BUSY')
          expect(err.message).toMatch(/busy timeout/)
          expect(text(await busy.find('k'))).toBe('before')
          other.exec('ROLLBACK')
          expect(await busy.commit('k', enc('after'), inMs(60_000))).toBe(true)
        } finally {
          other.close()
          busy.close()
        }
      })

      it('rejects with SQLITE_FULL when the file reaches max_page_count and keeps earlier rows', async () => {
        await store.commit('k', enc('before'), inMs(60_000))
        const pages = (db.pragma('page_count') as number) + 1
        db.pragma(`max_page_count = ${pages}`)
        const err = await storeError(store.commit('big', new Uint8Array(256 * 1024), inMs(60_000)))
        expect(err.sqlite).toBe('SQLITE_FULL')
        expect(err.message).toMatch(/max_page_count/)
        expect(text(await store.find('k'))).toBe('before')
        expect(await store.find('big')).toBeUndefined()
      })

      it('rejects calls after close with a StoreError, and close, stopCleanup and dispose are idempotent', async () => {
        const s = new SQLiteStore(db, { cleanupInterval: 10 })
        s.close()
        s.close()
        await s.stopCleanup()
        s[Symbol.dispose]()
        const err = await storeError(s.find('k'))
        expect(err.message).toMatch(/closed/)
        // The store did not own the connection, so closing the store left it open.
        expect(db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 })
      })

      it('validates options at construction with messages naming them', () => {
        expect(() => new SQLiteStore(db, { tableName: 'sessions; DROP TABLE x' })).toThrow(
          /tableName/,
        )
        expect(() => new SQLiteStore(db, { tableName: 'sqlite_master' })).toThrow(/tableName/)
        expect(() => new SQLiteStore(db, { cleanupInterval: -1 })).toThrow(/cleanupInterval/)
        expect(() => new SQLiteStore(db, { cleanupInterval: 2 ** 31 })).toThrow(/cleanupInterval/)
        expect(() => new SQLiteStore(db, { cleanupBatchSize: 0 })).toThrow(/cleanupBatchSize/)
        expect(() => new SQLiteStore(db, { busyTimeout: -1 })).toThrow(
          'SQLiteStore: busyTimeout must be a non-negative integer of ms, got -1',
        )
        expect(() => new SQLiteStore(db, { cleanupIntervall: 0 } as SQLiteStoreOptions)).toThrow(
          'SQLiteStore: unknown option "cleanupIntervall" (did you mean cleanupInterval?)',
        )
      })
    })

    describe('openSQLiteStore', () => {
      it('creates the file and Go’s exact schema in WAL mode, and its close() closes the file', async () => {
        const fresh = tempDir()
        try {
          const opened = openSQLiteStore(fresh.file, { driver, cleanupInterval: 0 })
          await opened.commit('k', enc('v'), inMs(60_000))
          expect(existsSync(`${fresh.file}-wal`)).toBe(true)
          opened.close()
          opened.close()
          // The last connection to close (this one or the checkpoint thread's) removes the WAL file.
          await vi.waitFor(() => expect(existsSync(`${fresh.file}-wal`)).toBe(false), {
            timeout: 3_000,
          })
          const check = connect(driver, fresh.file, { readonly: true })
          const schema = check
            .prepare(`SELECT sql FROM sqlite_master WHERE name LIKE 'sessions%' ORDER BY type DESC`)
            .all() as { sql: string }[]
          expect(schema.map((r) => r.sql)).toEqual([
            'CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)',
            'CREATE TABLE sessions_ended (token TEXT PRIMARY KEY, reason TEXT NOT NULL, expiry REAL NOT NULL)',
            'CREATE INDEX sessions_expiry_idx ON sessions(expiry)',
            'CREATE INDEX sessions_ended_expiry_idx ON sessions_ended(expiry)',
          ])
          expect(check.pragma('journal_mode')).toBe('wal')
          check.close()
        } finally {
          fresh.remove()
        }
      })

      it('checkpoints the WAL from its thread, and leaves it to SQLite with checkpointThread: false', async () => {
        const rows = async (file: string, checkpointThread: boolean) => {
          const s = openSQLiteStore(file, { driver, cleanupInterval: 0, checkpointThread })
          for (let i = 0; i < 100; i++) await s.commit(`k${i}`, new Uint8Array(3_500), inMs(60_000))
          return s
        }
        const threaded = tempDir()
        const plain = tempDir()
        const a = await rows(threaded.file, true)
        const b = await rows(plain.file, false)
        try {
          // 100 commits of 3.5 kB write fewer WAL frames than SQLite's 1,000-frame auto-checkpoint,
          // so only the thread moves them from the WAL into the database file.
          await vi.waitFor(() => expect(statSync(threaded.file).size).toBeGreaterThan(300_000), {
            timeout: 3_000,
          })
          expect(statSync(plain.file).size).toBeLessThan(100_000)
        } finally {
          a.close()
          b.close()
          threaded.remove()
          plain.remove()
        }
      })

      it('whenClosed resolves once the store and its checkpoint thread have let go of the file', async () => {
        const own = tempDir()
        const s = openSQLiteStore(own.file, { driver, cleanupInterval: 0, checkpointThread: true })
        for (let i = 0; i < 50; i++) await s.commit(`k${i}`, new Uint8Array(1_000), inMs(60_000))
        let resolved = false
        const closed = s.whenClosed().then(() => {
          resolved = true
        })
        await new Promise((resolve) => setImmediate(resolve))
        expect(resolved, 'not before close()').toBe(false)
        s.close()
        await closed
        // The last connection to close checkpoints the WAL and deletes it (and the -shm).
        expect(existsSync(`${own.file}-wal`)).toBe(false)
        expect(existsSync(`${own.file}-shm`)).toBe(false)
        await s.whenClosed()
        rmSync(own.dir, { recursive: true })
        expect(existsSync(own.dir)).toBe(false)
      })

      it('uses a validated custom table name with its own expiry index', async () => {
        using custom = new SQLiteStore(db, { cleanupInterval: 0, tableName: 'app_sessions' })
        await custom.commit('k', enc('v'), inMs(60_000))
        expect(custom.tableName).toBe('app_sessions')
        const idx = db
          .prepare(
            `SELECT name FROM sqlite_master WHERE tbl_name = 'app_sessions' AND type = 'index' AND sql IS NOT NULL`,
          )
          .all()
        expect(idx).toEqual([{ name: 'app_sessions_expiry_idx' }])
      })

      /** What openSQLiteStore threw for these arguments. */
      const openError = (...args: unknown[]): Error => {
        try {
          ;(openSQLiteStore as (...a: unknown[]) => SQLiteStore)(...args).close()
        } catch (err) {
          return err as Error
        }
        throw new Error('openSQLiteStore did not throw')
      }

      it('says the folder does not exist, and to create it, when the file’s folder is missing', () => {
        const err = openError(`${tmp.dir}/missing/dir/sessions.db`, { driver })
        expect(err).toBeInstanceOf(StoreError)
        expect(err.message).toContain(
          `the folder ${tmp.dir}/missing/dir does not exist: create it (mkdir -p "${tmp.dir}/missing/dir")`,
        )
        expect(err.message).not.toMatch(/writable|chmod/)
        expect(existsSync(`${tmp.dir}/missing`)).toBe(false)
      })

      it('says a file stands where the folder should be', () => {
        const err = openError(`${tmp.file}/sessions.db`, { driver })
        expect(err).toBeInstanceOf(StoreError)
        expect(err.message).toContain(`${tmp.file} is a file, not a folder`)
      })

      it('says the path is a folder, not a database file, when it names a folder', () => {
        const err = openError(tmp.dir, { driver })
        expect(err).toBeInstanceOf(StoreError)
        expect(err.message).toContain(
          `${tmp.dir} is a folder, not a database file: give the path of a file in it (for example ${tmp.dir}/sessions.db)`,
        )
        expect(err.message).not.toMatch(/unable to open database file/)
      })

      it('throws a TypeError naming the argument when called without a path or with bad options', () => {
        for (const path of [undefined, null, 42]) {
          const err = openError(path)
          expect(err).toBeInstanceOf(TypeError)
          expect(err.message).toMatch(
            /^openSQLiteStore: path must be a string, the database file's path \(for example 'sessions\.db'\) or ':memory:', got (undefined|null|number)$/,
          )
        }
        const err = openError(tmp.file, null)
        expect(err).toBeInstanceOf(TypeError)
        expect(err.message).toBe('openSQLiteStore: options must be an object, got null')
      })
    })

    describe('SQLiteStore with SessionManager', () => {
      it('round-trips a session: commit writes a row, load reads it back, destroy removes it', async () => {
        const sessions = new SessionManager<{ message: string }>({ store })
        const session = await sessions.load('')
        session.put('message', 'Hello from a session!')
        const { token, committed } = await sessions.commit(session)
        expect(committed).toBe(true)
        expect(count()).toBe(1)
        const loaded = await sessions.load(token)
        expect(loaded.get('message')).toBe('Hello from a session!')
        await loaded.destroy()
        expect(count()).toBe(0)
        expect((await sessions.load(token)).get('message')).toBeUndefined()
      })
    })

    // sqlite3store's statements verbatim, bound as Go binds them: by position. better-sqlite3
    // takes `$1` only by name; the other drivers bind numbered parameters by position.
    const goRun = (
      statement: keyof typeof GO_SQL,
      method: 'run' | 'get' | 'all',
      ...params: (string | Uint8Array)[]
    ): unknown => {
      if (driver === 'better-sqlite3') {
        const named = Object.fromEntries(params.map((p, i) => [i + 1, p]))
        const stmt = db.prepare(GO_SQL[statement]) as unknown as Record<
          typeof method,
          (...args: unknown[]) => unknown
        >
        return params.length === 0 ? stmt[method]() : stmt[method](named)
      }
      return db.prepare(GO_SQL[statement].replace(/\$(\d)/g, '?$1'))[method](...params)
    }
  })
}
