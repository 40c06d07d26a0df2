// Part of `npm run bench:stores`: on every SQLite driver this runtime loads, what SQLiteStore's
// find, commit and delete cost over the same statements prepared and run raw on that driver,
// with the same pragmas (goal ≤ 1.3× each). Run by scripts/bench-stores.sh on the machine's Node
// and on Node 26 in one go; one process per runtime, not a CI test.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSQLiteDatabase } from '../src/stores/sqlite/driver.ts'
import {
  availableSQLiteDrivers,
  openSQLiteStore,
  type SQLiteDriverName,
} from '../src/stores/sqlite/index.ts'
import { schemaSQL, statementsSQL } from '../src/stores/sqlite/sql.ts'
import { median, opsPerSecond, type Runner, rawRunner, storeRunner } from './lib/store-runner.ts'

const KEYS = 5_000
const OPS = 20_000
const ROUNDS = 11
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-drivers-bench-'))
const token = (): string => randomBytes(32).toString('base64url')
const data = randomBytes(200)
const expiry = new Date(Date.now() + 3_600_000)
const WORKLOAD = { ops: OPS, keys: KEYS, data, expiry }
const versions = process.versions as { bun?: string; deno?: string }
const runtime =
  versions.bun !== undefined
    ? `Bun ${versions.bun}`
    : versions.deno !== undefined
      ? `Deno ${versions.deno}`
      : `Node ${process.version}`

// The raw side: the store's own SQL and pragmas, prepared once, no store around it.
function rawSide(driver: SQLiteDriverName, file: string): { runner: Runner; close(): void } {
  const db = openSQLiteDatabase(file, driver)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = NORMAL')
  const schema = schemaSQL('sessions')
  db.exec(schema.table)
  db.exec(schema.index)
  const sql = statementsSQL('sessions')
  const find = db.prepare(sql.find)
  const upsert = db.prepare(sql.upsert)
  const del = db.prepare(sql.delete)
  return {
    runner: rawRunner({ find, upsert, delete: del }, WORKLOAD),
    close() {
      for (const s of [find, upsert, del]) s.finalize?.()
      db.close()
    },
  }
}

try {
  console.log(
    `${runtime}: SQLiteStore against the same statements raw on each driver, ops/s, median of ${ROUNDS} rounds (${OPS.toLocaleString()} ops):`,
  )
  console.log('driver           op        store       raw   cost (goal ≤ 1.30×)')
  for (const driver of availableSQLiteDrivers()) {
    const name = driver.replace(':', '-')
    // Checkpoints on commit on both sides, so like is compared with like.
    const store = openSQLiteStore(join(dir, `${name}-store.db`), {
      driver,
      cleanupInterval: 0,
      checkpointThread: false,
    })
    const raw = rawSide(driver, join(dir, `${name}-raw.db`))
    const sides = { store: storeRunner(store, WORKLOAD), raw: raw.runner }
    const results = {
      store: { find: [] as number[], commit: [] as number[], delete: [] as number[] },
      raw: { find: [] as number[], commit: [] as number[], delete: [] as number[] },
    }
    for (let round = 0; round <= ROUNDS; round++) {
      // Alternate who goes first; round 0 warms up.
      const order = round % 2 === 0 ? (['store', 'raw'] as const) : (['raw', 'store'] as const)
      for (const side of order) {
        const keys = Array.from({ length: KEYS }, token)
        const r = sides[side]
        const commit = await opsPerSecond(() => r.commit(keys), OPS)
        const find = await opsPerSecond(() => r.find(keys), OPS)
        const del = await opsPerSecond(() => r.delete(keys), KEYS)
        if (round === 0) continue
        results[side].commit.push(commit)
        results[side].find.push(find)
        results[side].delete.push(del)
      }
    }
    for (const op of ['find', 'commit', 'delete'] as const) {
      // Each round's ratio pairs runs made moments apart, so drift in the machine cancels.
      const cost = median(results.raw[op].map((w, i) => w / (results.store[op][i] as number)))
      console.log(
        `${driver.padEnd(16)} ${op.padEnd(7)} ${Math.round(median(results.store[op])).toLocaleString().padStart(9)} ${Math.round(median(results.raw[op])).toLocaleString().padStart(9)}   ${cost.toFixed(2)}×`,
      )
    }
    store.close()
    raw.close()
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
