import { existsSync, statSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/index.ts'
import { WriteGroup } from '../../src/stores/sqlite/batch.ts'
import { sqliteCode } from '../../src/stores/sqlite/errors.ts'
import type { SQLiteDatabase, SQLiteValue } from '../../src/stores/sqlite/index.ts'
import { openSQLiteStore, SQLiteStore } from '../../src/stores/sqlite/index.ts'
import { enc, inMs } from '../helpers/bytes.ts'
import { connect, SQLITE_DRIVERS } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    /**
     * A real connection that logs the first word of each write statement it runs
     * (BEGIN, COMMIT, INSERT, …), and fails the statements bound to a poisoned token: the failure
     * injection the group's per-caller errors need.
     */
    function recorded(file: string) {
      const db = connect(driver, file)
      db.pragma('journal_mode = WAL')
      const log: string[] = []
      const poisoned = new Set<string>()
      const wrapped: SQLiteDatabase = {
        exec: (sql) => db.exec(sql),
        close: () => db.close(),
        prepare(sql) {
          const statement = db.prepare(sql)
          const verb = sql.split(' ')[0] ?? sql
          return {
            get: (...params: SQLiteValue[]) => statement.get(...params),
            all: (...params: SQLiteValue[]) => statement.all(...params),
            run(...params: SQLiteValue[]) {
              if (params.some((p) => typeof p === 'string' && poisoned.has(p))) {
                throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })
              }
              log.push(verb)
              return statement.run(...params)
            },
          }
        },
      }
      return { db, wrapped, log, poisoned }
    }

    let tmp: ReturnType<typeof tempDir>
    let rec: ReturnType<typeof recorded>
    let store: SQLiteStore
    beforeEach(() => {
      tmp = tempDir()
      rec = recorded(tmp.file)
      store = new SQLiteStore(rec.wrapped, { cleanupInterval: 0 })
    })
    afterEach(() => {
      store.close()
      try {
        rec.db.close()
      } catch {
        // Closed by the test.
      }
      tmp.remove()
    })

    const rows = (): number =>
      (rec.db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n

    describe('SQLiteStore groups the writes of one event-loop turn', () => {
      it('runs the first write at once and the rest of the turn in one transaction', async () => {
        const first = store.commit('a', enc('1'), inMs(60_000))
        // Already in the file: a lone write waits for nothing.
        expect(rows()).toBe(1)
        const rest = ['b', 'c', 'd', 'e'].map((k) => store.commit(k, enc(k), inMs(60_000)))
        expect(rows()).toBe(1)
        expect(await Promise.all([first, ...rest])).toEqual([true, true, true, true, true])
        expect(rows()).toBe(5)
        expect(rec.log).toEqual([
          'INSERT',
          'BEGIN',
          'INSERT',
          'INSERT',
          'INSERT',
          'INSERT',
          'COMMIT',
        ])
      })

      it('starts a new group in the next turn, with its own first write at once', async () => {
        await Promise.all(['a', 'b'].map((k) => store.commit(k, enc(k), inMs(60_000))))
        await nextTurn()
        await Promise.all(['c', 'd'].map((k) => store.commit(k, enc(k), inMs(60_000))))
        expect(rec.log).toEqual(['INSERT', 'INSERT', 'INSERT', 'INSERT'])
        expect(rows()).toBe(4)
      })

      it("gives each caller its own result: an 'insert' over a live row is false, its neighbours true", async () => {
        await store.commit('taken', enc('old'), inMs(60_000))
        await nextTurn()
        const results = await Promise.all([
          store.commit('x', enc('x'), inMs(60_000)),
          store.commit('taken', enc('new'), inMs(60_000), 'insert'),
          store.commit('y', enc('y'), inMs(60_000)),
          store.touch('missing', inMs(60_000)),
          store.commit('gone', enc('g'), inMs(60_000), 'update'),
          store.delete('x'),
        ])
        expect(results).toEqual([true, false, true, false, false, undefined])
        expect(text(await store.find('taken'))).toBe('old')
        expect(await store.find('x')).toBeUndefined()
        expect(text(await store.find('y'))).toBe('y')
      })

      it('reruns a failed group one write at a time, so only the failing caller gets the StoreError', async () => {
        await store.commit('first', enc('1'), inMs(60_000))
        rec.poisoned.add('bad')
        const settled = await Promise.allSettled([
          store.commit('ok1', enc('1'), inMs(60_000)),
          store.commit('bad', enc('2'), inMs(60_000)),
          store.commit('ok2', enc('3'), inMs(60_000)),
        ])
        expect(settled[0]).toEqual({ status: 'fulfilled', value: true })
        expect(settled[2]).toEqual({ status: 'fulfilled', value: true })
        const failed = settled[1] as PromiseRejectedResult
        expect(failed.status).toBe('rejected')
        expect(failed.reason).toBeInstanceOf(StoreError)
        expect((failed.reason as StoreError).cause).toMatchObject({ code: 'SQLITE_IOERR' })
        expect(rec.log.slice(1)).toEqual(['BEGIN', 'INSERT', 'ROLLBACK', 'INSERT', 'INSERT'])
        expect(rows()).toBe(3)
        expect(await store.find('bad')).toBeUndefined()
      })

      it('lets a read of a key see the write for it still waiting in the group', async () => {
        void store.commit('a', enc('1'), inMs(60_000))
        const waiting = store.commit('b', enc('2'), inMs(60_000))
        expect(text(await store.find('b'))).toBe('2')
        expect(await waiting).toBe(true)
        void store.commit('c', enc('3'), inMs(60_000))
        expect([...(await store.all()).keys()].sort()).toEqual(['a', 'b', 'c'])
      })

      it('writes the waiting group before close, so no accepted write is lost', async () => {
        const writes = ['a', 'b', 'c'].map((k) => store.commit(k, enc(k), inMs(60_000)))
        store.close()
        expect(await Promise.all(writes)).toEqual([true, true, true])
        expect(rows()).toBe(3)
      })
    })

    describe('WriteGroup hold and release (the checkpoint thread rewinding the WAL)', () => {
      it('queues writes across turns while held and writes them as one group on release', async () => {
        const group = new WriteGroup({
          begin: () => rec.log.push('BEGIN'),
          commit: () => rec.log.push('COMMIT'),
          rollback: () => rec.log.push('ROLLBACK'),
        })
        group.hold()
        const first = group.write('a', () => rec.log.push('a'))
        await nextTurn()
        await nextTurn()
        const second = group.write('b', () => rec.log.push('b'))
        await nextTurn()
        expect(rec.log).toEqual([])
        expect(group.pending('a')).toBe(true)
        group.release()
        await Promise.all([first, second])
        expect(rec.log).toEqual(['BEGIN', 'a', 'b', 'COMMIT'])
      })

      it('still writes on an explicit flush while held, so reads see waiting writes', async () => {
        const group = new WriteGroup({
          begin: () => undefined,
          commit: () => undefined,
          rollback: () => undefined,
        })
        group.hold()
        const done = group.write('a', () => 'written')
        group.flush()
        expect(await done).toBe('written')
        group.release()
        expect(group.size).toBe(0)
      })
    })

    describe('openSQLiteStore keeps the WAL bounded under a steady stream of writes', () => {
      it('rewinds the WAL past walLimitPages and cuts the file back while writes keep coming, losing none', async () => {
        const file = tempDir()
        const limitPages = 64
        const s = openSQLiteStore(file.file, {
          driver,
          cleanupInterval: 0,
          walLimitPages: limitPages,
        })
        const walSize = () =>
          existsSync(`${file.file}-wal`) ? statSync(`${file.file}-wal`).size : 0
        try {
          const data = new Uint8Array(1_000)
          let written = 0
          let cutBack = 0
          // Writes until the file has been cut back twice (well under a second on an idle machine),
          // for at most 5 s, so a CPU shared with other test files only makes it take longer.
          const until = Date.now() + 5_000
          while (Date.now() < until && (cutBack < 2 || written < 2_000)) {
            const before = walSize()
            await Promise.all(
              Array.from({ length: 20 }, () => s.commit(`k${written++}`, data, inMs(60_000))),
            )
            if (walSize() < before) cutBack++
            await nextTurn()
          }
          // Without the rewind the WAL file only ever grows while writes keep coming. How far it grows
          // between rewinds depends on how much CPU the thread gets (bench:wal measures that), so the
          // test asserts the mechanism: the file was cut back, repeatedly, under a steady load.
          expect(cutBack).toBeGreaterThanOrEqual(2)
          const check = connect(driver, file.file, { readonly: true })
          try {
            expect(check.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({
              n: written,
            })
          } finally {
            check.close()
          }
        } finally {
          s.close()
          file.remove()
        }
      })

      it('does not stall writers while another connection holds a long read transaction', async () => {
        const file = tempDir()
        const warnings: string[] = []
        const s = openSQLiteStore(file.file, {
          driver,
          cleanupInterval: 0,
          walLimitPages: 16,
          onCleanupError: (err) => warnings.push(err.message),
        })
        const reader = connect(driver, file.file)
        const delay = monitorEventLoopDelay({ resolution: 1 })
        try {
          await s.commit('first', new Uint8Array(10), inMs(60_000))
          // A snapshot held open (a backup, a report) keeps the WAL from being rewound at all.
          reader.exec('BEGIN')
          reader.prepare('SELECT COUNT(*) FROM sessions').get()
          delay.enable()
          let written = 0
          let slowest = 0
          const until = Date.now() + 1_500
          while (Date.now() < until) {
            const started = performance.now()
            await Promise.all(
              Array.from({ length: 20 }, () =>
                s.commit(`k${written++}`, new Uint8Array(1_000), inMs(60_000)),
              ),
            )
            slowest = Math.max(slowest, performance.now() - started)
            await nextTurn()
          }
          delay.disable()
          reader.exec('COMMIT')
          expect(written).toBeGreaterThan(1_000)
          // The rewind gives up after 50 ms instead of holding the write lock for the reader for the
          // busy timeout: 5-11 ms stalls on an idle machine, where waiting for the reader stalled the
          // event loop for about 4 s. The bounds leave room for a CPU shared with other test files.
          expect(delay.max / 1e6).toBeLessThan(1_500)
          expect(slowest).toBeLessThan(2_000)
          expect(await s.find(`k${written - 1}`)).toBeInstanceOf(Uint8Array)
          // The reader pinned the WAL past its limit: said once, to onCleanupError.
          expect(warnings.length).toBeLessThanOrEqual(1)
        } finally {
          try {
            reader.exec('ROLLBACK')
          } catch {
            // Committed above.
          }
          reader.close()
          s.close()
          file.remove()
        }
      })

      it('refuses a walLimitPages that is not a positive integer', () => {
        const file = tempDir()
        try {
          expect(() => openSQLiteStore(file.file, { driver, walLimitPages: 0 })).toThrow(
            /walLimitPages/,
          )
          expect(() => openSQLiteStore(file.file, { driver, walLimitPages: 1.5 })).toThrow(
            /walLimitPages/,
          )
        } finally {
          file.remove()
        }
      })
    })

    describe('SQLiteStore write groups across connections', () => {
      it('rejects the whole group with SQLITE_BUSY when another connection holds the lock, then recovers', async () => {
        const file = tempDir()
        const busy = openSQLiteStore(file.file, { driver, busyTimeout: 50, cleanupInterval: 0 })
        const other = connect(driver, file.file)
        try {
          await busy.commit('k', enc('before'), inMs(60_000))
          other.exec('BEGIN EXCLUSIVE')
          const settled = await Promise.allSettled(
            ['k', 'l', 'm'].map((k) => busy.commit(k, enc('after'), inMs(60_000))),
          )
          for (const result of settled) {
            expect(result.status).toBe('rejected')
            expect(sqliteCode((result as PromiseRejectedResult).reason.cause)).toBe('SQLITE_BUSY')
          }
          other.exec('ROLLBACK')
          expect(text(await busy.find('k'))).toBe('before')
          await nextTurn()
          expect(
            await Promise.all(['k', 'l'].map((k) => busy.commit(k, enc('after'), inMs(60_000)))),
          ).toEqual([true, true])
          expect(text(await busy.find('l'))).toBe('after')
        } finally {
          other.close()
          busy.close()
          file.remove()
        }
      })
    })
  })
}
