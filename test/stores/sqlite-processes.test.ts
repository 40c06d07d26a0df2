import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openSQLiteStore, type SQLiteDriverName } from '../../src/stores/sqlite/index.ts'
import type { WorkerMessage } from '../fixtures/sqlite-worker.ts'
import { connect, fixtureEnv, SQLITE_DRIVERS, TS_EXEC_ARGV } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const WORKER = fileURLToPath(new URL('../fixtures/sqlite-worker.ts', import.meta.url))
type Done = Extract<WorkerMessage, { type: 'done' }>

for (const { driver, skip, title } of SQLITE_DRIVERS) {
  describe.skipIf(skip)(`on ${title}`, () => {
    function spawnWorker(
      file: string,
      id: number,
      mode: 'mix' | 'writer',
      ops: number,
      workerDriver: SQLiteDriverName = driver,
    ) {
      const child = fork(WORKER, [file, String(id), mode, String(ops)], {
        execArgv: TS_EXEC_ARGV,
        env: fixtureEnv(workerDriver),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      })
      // A late IPC error (the channel of a killed child) must not surface as an unhandled event.
      child.on('error', () => {})
      const ready = new Promise<void>((resolve, reject) => {
        child.once('error', reject)
        child.on('message', (m: WorkerMessage) => m.type === 'ready' && resolve())
      })
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      )
      return { child, ready, exited }
    }

    function integrity(file: string): string {
      const db = connect(driver, file, { readonly: true })
      try {
        return db.pragma('integrity_check') as string
      } finally {
        db.close()
      }
    }

    let tmp: ReturnType<typeof tempDir>
    const children: ChildProcess[] = []
    beforeEach(() => {
      tmp = tempDir()
      // The parent creates the schema once so children race only on data, as app servers would.
      openSQLiteStore(tmp.file, { driver, cleanupInterval: 0 }).close()
    })
    afterEach(() => {
      for (const child of children.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      tmp.remove()
    })

    describe('SQLiteStore shared by several processes', () => {
      // Each worker's driver, in turn: one driver, or several sharing the file as Go and Node do.
      async function fourWorkers(drivers: SQLiteDriverName[]): Promise<void> {
        const workers = [0, 1, 2, 3].map((id) =>
          spawnWorker(tmp.file, id, 'mix', 2_000, drivers[id % drivers.length]),
        )
        children.push(...workers.map((w) => w.child))
        const reports = workers.map(
          (w) =>
            new Promise<Done>((resolve) =>
              w.child.on('message', (m: WorkerMessage) => m.type === 'done' && resolve(m)),
            ),
        )
        await Promise.all(workers.map((w) => w.ready))
        for (const w of workers) w.child.send('go')
        const done = await Promise.all(reports)
        expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0, 0])

        for (const report of done) {
          expect(report.busy).toBe(0)
          expect(report.errors).toEqual([])
          expect(report.mismatches).toEqual([])
        }
        const store = openSQLiteStore(tmp.file, { driver, cleanupInterval: 0 })
        try {
          let checked = 0
          for (const report of done) {
            for (const [token, counter] of Object.entries(report.final)) {
              const found = await store.find(token)
              const got =
                found === undefined
                  ? null
                  : (JSON.parse(new TextDecoder().decode(found)) as { n: number }).n
              expect(got, token).toBe(counter)
              checked++
            }
          }
          expect(checked).toBeGreaterThan(100)
        } finally {
          store.close()
        }
        expect(integrity(tmp.file)).toBe('ok')
        const totals = done.reduce(
          (t, r) => ({
            commit: t.commit + r.ops.commit,
            find: t.find + r.ops.find,
            delete: t.delete + r.ops.delete,
            cleanup: t.cleanup + r.ops.cleanup,
          }),
          { commit: 0, find: 0, delete: 0, cleanup: 0 },
        )
        expect(totals.commit + totals.find + totals.delete + totals.cleanup).toBe(8_000)
        console.info(`sqlite processes: 4 workers on ${drivers.join(' + ')}, ops`, totals)
      }

      it('runs 4 processes of find/commit/delete on one WAL file with no SQLITE_BUSY and no lost commit', async () => {
        await fourWorkers([driver])
      })

      // Once per runtime (on its first driver): processes on different drivers share one file.
      const others = SQLITE_DRIVERS.filter((d) => !d.skip && d.driver !== driver).map(
        (d) => d.driver,
      )
      if (others.length > 0 && SQLITE_DRIVERS.find((d) => !d.skip)?.driver === driver) {
        it(`shares the file between processes on ${[driver, ...others].join(' and ')}, losing no commit`, async () => {
          await fourWorkers([driver, ...others])
        })
      }

      it('keeps every acknowledged write when a writing process is killed with SIGKILL', async () => {
        const writer = spawnWorker(tmp.file, 9, 'writer', 1_000_000)
        const other = spawnWorker(tmp.file, 8, 'writer', 1_000_000)
        children.push(writer.child, other.child)
        const acked = new Map<string, number>()
        const killAfter = 200 + Math.floor(Math.random() * 2_500)
        let acks = 0
        const killed = new Promise<void>((resolve) => {
          writer.child.on('message', (m: WorkerMessage) => {
            if (m.type !== 'ack' || m.counter === null) return
            acked.set(m.token, m.counter)
            acks++
            if (acks === killAfter) {
              writer.child.kill('SIGKILL')
              resolve()
            }
          })
        })
        await Promise.all([writer.ready, other.ready])
        writer.child.send('go')
        other.child.send('go')
        await killed
        expect(await writer.exited).toBeNull()
        other.child.kill('SIGKILL')
        await other.exited

        expect(integrity(tmp.file)).toBe('ok')
        const store = openSQLiteStore(tmp.file, { driver, cleanupInterval: 0 })
        try {
          for (const [token, counter] of acked) {
            const found = await store.find(token)
            expect(found, token).toBeDefined()
            const n = (JSON.parse(new TextDecoder().decode(found)) as { n: number }).n
            // The write in flight at the kill may have landed too, never fewer than acknowledged.
            expect(n === counter || n === counter + 1, `${token}: ${n} vs ${counter}`).toBe(true)
          }
        } finally {
          store.close()
        }
        console.info(
          `sqlite kill: SIGKILL after ${killAfter} acks; ${acks} acks (${acked.size} tokens) all present`,
        )
      })
    })
  })
}
