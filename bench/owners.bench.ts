// `npm run bench:owners`: what listing and revoking one owner's sessions costs on SQLiteStore
// when the file holds 1,000,000 sessions (issue goal: listOwned ≤ 1 ms for an owner with 50).
// Listing goes through the index by owner, so the cost should follow the owner's sessions,
// not the table. One process, one run; not a CI test.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { SessionManager } from '../src/index.ts'
import { openSQLiteStore } from '../src/stores/sqlite/index.ts'

const ROWS = Number(process.env.ROWS ?? 1_000_000)
const OWN = 50
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-owners-bench-'))
const file = join(dir, 'sessions.db')
const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] as number

try {
  // The schema through the store (sessions, sessions_owners, trigger), then rows in bulk.
  const setup = openSQLiteStore(file, { cleanupInterval: 0 })
  const sessions = new SessionManager<{ userId: number }>({ store: setup, owner: 'userId' })
  const first = await sessions.load('')
  first.put('userId', -1)
  await sessions.commit(first)
  setup.close()

  const started = performance.now()
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  const data = Buffer.from(JSON.stringify({ d: Date.now() + 3_600_000, v: { userId: 1 } }))
  const insertSession = db.prepare(
    `INSERT INTO sessions VALUES (?, ?, julianday('now', '+1 hour'))`,
  )
  const insertOwner = db.prepare(
    `INSERT INTO sessions_owners VALUES (?, ?, ?, ?, 'Mozilla/5.0 (bench)', '127.0.0.1')`,
  )
  const now = Date.now()
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const token = randomBytes(32).toString('base64url')
      insertSession.run(token, data)
      // Owner 42 has OWN sessions; the rest belong to about 300,000 other users.
      const owner = i < OWN ? '42' : String(1_000 + (i % 300_000))
      insertOwner.run(token, owner, now, now)
    }
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  db.close()
  console.log(
    `filled ${ROWS.toLocaleString()} sessions with owners in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )

  const store = openSQLiteStore(file, { cleanupInterval: 0 })
  const manager = new SessionManager<{ userId: number }>({ store, owner: 'userId' })
  const times: number[] = []
  for (let i = 0; i < 2_000; i++) {
    const t0 = performance.now()
    const list = await manager.listOwned(42)
    times.push(performance.now() - t0)
    if (list.length !== OWN) throw new Error(`listed ${list.length}, expected ${OWN}`)
  }
  console.log(
    `listOwned(owner with ${OWN} of ${ROWS.toLocaleString()} sessions): p50 ${quantile(times, 0.5).toFixed(3)} ms, p99 ${quantile(times, 0.99).toFixed(3)} ms (goal ≤ 1 ms)`,
  )
  const small: number[] = []
  for (let i = 0; i < 2_000; i++) {
    const t0 = performance.now()
    await manager.listOwned(1_000 + (i % 300_000))
    small.push(performance.now() - t0)
  }
  console.log(
    `listOwned(owner with 3 sessions): p50 ${quantile(small, 0.5).toFixed(3)} ms, p99 ${quantile(small, 0.99).toFixed(3)} ms`,
  )
  const t0 = performance.now()
  const revoked = await manager.revokeOwned(42)
  console.log(
    `revokeOwned(owner with ${OWN}): ${revoked} sessions ended in ${(performance.now() - t0).toFixed(1)} ms`,
  )
  store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
