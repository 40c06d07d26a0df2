import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/index.ts'
import {
  availableSQLiteDrivers,
  defaultSQLiteDriver,
  openSQLiteStore,
  type SQLiteDriverName,
} from '../../src/stores/sqlite/index.ts'
import { enc } from '../helpers/bytes.ts'
import { connect, RUNTIME, SQLITE_DRIVERS } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

const drivers = SQLITE_DRIVERS.filter((d) => !d.skip).map((d) => d.driver)
const at = (iso: string): Date => new Date(iso)
const versions = process.versions as { bun?: string; deno?: string }
// Tests that mean nothing on this runtime are not registered (rather than counted as skipped).
const notHere = (() => {}) as unknown as typeof it
const itWithDrivers = drivers.length < 2 ? notHere : it
const itOffBun = versions.bun === undefined ? it : notHere

// The same calls on every driver; what they leave in the file must be byte for byte the same.
async function writeScript(file: string, driver: SQLiteDriverName): Promise<void> {
  const store = openSQLiteStore(file, { driver, cleanupInterval: 0, checkpointThread: false })
  try {
    await store.commit('live', enc('{"a":1}'), at('2999-01-02T03:04:05.678Z'))
    await store.commit('bytes', new Uint8Array([0, 255, 1, 128]), at('2999-06-30T00:00:00Z'))
    await store.commit('gone', enc('x'), at('2999-01-01T00:00:00Z'))
    await store.replace('live', enc('{"a":1}'), enc('{"a":2}'), at('2999-01-02T03:04:05.9Z'))
    await store.setOwner(
      'bytes',
      'user-7',
      undefined,
      { userAgent: 'UA', ip: '127.0.0.1' },
      at('2026-12-01T00:00:00Z'),
    )
    await store.end('gone', 'destroyed', at('2999-01-01T00:01:00Z'))
  } finally {
    store.close()
  }
}

// Every user table's rows, with each value's SQLite type and exact bytes (quote() of a REAL
// prints it to 17 significant digits, enough to tell two doubles apart).
function dump(file: string, driver: SQLiteDriverName): Record<string, string[]> {
  const db = connect(driver, file, { readonly: true })
  try {
    const tables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
      .all() as { name: string }[]
    const out: Record<string, string[]> = {}
    for (const { name } of tables) {
      const columns = (db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map(
        (c) => c.name,
      )
      const select = columns.map((c) => `typeof(${c}) || ':' || quote(${c})`).join(` || '|' || `)
      out[name] = (
        db.prepare(`SELECT ${select} AS row FROM ${name} ORDER BY 1`).all() as { row: string }[]
      ).map((r) => r.row)
    }
    return out
  } finally {
    db.close()
  }
}

describe(`SQLite drivers on ${RUNTIME}`, () => {
  it('picks better-sqlite3 when it loads, else the runtime’s own SQLite, and lists what loads', () => {
    const available = availableSQLiteDrivers()
    expect(available.length).toBeGreaterThan(0)
    if (versions.bun !== undefined) {
      expect(available).toContain('bun:sqlite')
      expect(defaultSQLiteDriver()).toBe(
        available.includes('better-sqlite3') ? 'better-sqlite3' : 'bun:sqlite',
      )
    } else if (available.includes('better-sqlite3')) {
      expect(defaultSQLiteDriver()).toBe('better-sqlite3')
    } else {
      expect(defaultSQLiteDriver()).toBe('node:sqlite')
    }
  })

  it('refuses an unknown driver with a RangeError naming the choices', () => {
    const tmp = tempDir()
    try {
      expect(() =>
        openSQLiteStore(tmp.file, { driver: 'sqlite3' as unknown as SQLiteDriverName }),
      ).toThrow(/driver must be one of better-sqlite3, node:sqlite, bun:sqlite, got sqlite3/)
    } finally {
      tmp.remove()
    }
  })

  // Off Bun only: there bun:sqlite loads.
  itOffBun('fails with a StoreError that says where bun:sqlite exists', () => {
    const tmp = tempDir()
    try {
      const open = () => openSQLiteStore(tmp.file, { driver: 'bun:sqlite' })
      expect(open).toThrow(StoreError)
      expect(open).toThrow(/bun:sqlite exists only on Bun/)
    } finally {
      tmp.remove()
    }
  })

  // Between drivers: registered where the runtime has two or more (Node ≥ 22.13, Bun, Deno).
  itWithDrivers(`writes the same bytes into the file on ${drivers.join(', ')}`, async () => {
    const tmp = tempDir()
    try {
      const dumps = []
      for (const driver of drivers) {
        const file = join(tmp.dir, `${driver.replace(':', '-')}.db`)
        await writeScript(file, driver)
        dumps.push(dump(file, driver))
      }
      const [first, ...rest] = dumps
      expect(first?.sessions).toHaveLength(2)
      expect(first?.sessions_ended).toHaveLength(1)
      expect(first?.sessions_owners).toHaveLength(1)
      for (const other of rest) expect(other).toEqual(first)
    } finally {
      tmp.remove()
    }
  })

  itWithDrivers(
    'reads, rewrites and ends the sessions another driver wrote, one after the other',
    async () => {
      const tmp = tempDir()
      try {
        for (const writer of drivers) {
          for (const reader of drivers) {
            if (reader === writer) continue
            const file = join(tmp.dir, `${writer.replace(':', '-')}-${reader.replace(':', '-')}.db`)
            await writeScript(file, writer)
            // One driver at a time on a file: two copies of SQLite in one process must not hold
            // the same file open at once (their POSIX locks would not see each other).
            const store = openSQLiteStore(file, {
              driver: reader,
              cleanupInterval: 0,
              checkpointThread: false,
            })
            try {
              expect(new TextDecoder().decode(await store.find('live'))).toBe('{"a":2}')
              expect([...((await store.find('bytes')) ?? [])]).toEqual([0, 255, 1, 128])
              expect(await store.ended('gone')).toBe('destroyed')
              expect((await store.listOwned('user-7')).map((s) => s.key)).toEqual(['bytes'])
              expect(
                await store.replace(
                  'live',
                  enc('{"a":2}'),
                  enc('{"a":3}'),
                  at('2999-02-01T00:00:00Z'),
                ),
              ).toBe(true)
              expect(
                new TextDecoder().decode(
                  await store.end('live', 'renewed', at('2999-01-01T00:01:00Z')),
                ),
              ).toBe('{"a":3}')
            } finally {
              store.close()
            }
          }
        }
      } finally {
        tmp.remove()
      }
    },
  )
})
