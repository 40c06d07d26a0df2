import net from 'node:net'
import pg from 'pg'
import * as vitest from 'vitest'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { StoreError } from '../../src/index.ts'
import { PostgresStore } from '../../src/stores/postgres/index.ts'
import { describeStoreConformance } from '../../src/testing/index.ts'
import { enc } from '../helpers/bytes.ts'
import { freePort } from '../helpers/http.ts'
import { named, serviceUrl } from '../helpers/services.ts'

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)

const url = serviceUrl('postgres')

function newPool(connectionString: string): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 2_000 })
  // An idle connection that dies emits 'error' on the pool; unhandled, it would end the run.
  pool.on('error', () => {})
  return pool
}

describe.skipIf(url === undefined)(named('PostgreSQL', 'postgres', url), () => {
  // Read only inside hooks and tests: this body also runs (to name the skipped tests) without one.
  const pgUrl = url as string
  // Each file uses its own tables, so test files running in parallel never share rows.
  describeStoreConformance(
    vitest,
    'PostgresStore',
    PostgresStore,
    async () => {
      const pool = newPool(pgUrl)
      const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'contract_sessions' })
      await store.ready()
      return {
        store,
        reset: async () => {
          await pool.query('TRUNCATE TABLE contract_sessions')
        },
        close: async () => {
          store.close()
          await pool.end()
        },
      }
    },
    { sweep: (store) => store.deleteExpired() },
  )

  describe('PostgresStore (SCS postgresstore tests)', () => {
    let pool: pg.Pool
    let store: PostgresStore
    const count = async (): Promise<number> =>
      Number((await pool.query('SELECT COUNT(*) AS n FROM sessions')).rows[0].n)

    beforeAll(async () => {
      pool = newPool(pgUrl)
      store = new PostgresStore(pool, { cleanupInterval: 0 })
      await store.ready()
    })
    beforeEach(async () => {
      await pool.query('TRUNCATE TABLE sessions')
    })
    afterAll(async () => {
      store.close()
      await pool.end()
    })

    it('finds a row written by SQL with a database-clock expiry (TestFind)', async () => {
      await pool.query(
        "INSERT INTO sessions VALUES ('session_token', 'encoded_data', current_timestamp + interval '1 minute')",
      )
      expect(text(await store.find('session_token'))).toBe('encoded_data')
    })

    it('resolves undefined, not an error, for a missing token (TestFindMissing)', async () => {
      await expect(store.find('missing_session_token')).resolves.toBeUndefined()
    })

    it('writes a new row that a raw SELECT reads back (TestSaveNew)', async () => {
      await store.commit('session_token', enc('encoded_data'), inMinutes(1))
      const { rows } = await pool.query("SELECT data FROM sessions WHERE token = 'session_token'")
      expect(Buffer.from(rows[0].data).toString()).toBe('encoded_data')
    })

    it('overwrites an existing row, as an upsert (TestSaveUpdated)', async () => {
      await pool.query(
        "INSERT INTO sessions VALUES ('session_token', 'encoded_data', current_timestamp + interval '1 minute')",
      )
      await store.commit('session_token', enc('new_encoded_data'), inMinutes(1))
      const { rows } = await pool.query("SELECT data FROM sessions WHERE token = 'session_token'")
      expect(Buffer.from(rows[0].data).toString()).toBe('new_encoded_data')
    })

    it('does not find a row once the database clock passes its expiry (TestExpiry)', async () => {
      await store.commit('session_token', enc('encoded_data'), inMinutes(1))
      expect(await store.find('session_token')).toBeDefined()
      await pool.query(
        "UPDATE sessions SET expiry = current_timestamp - interval '1 millisecond' WHERE token = 'session_token'",
      )
      expect(await store.find('session_token')).toBeUndefined()
    })

    it('deletes the row (TestDelete)', async () => {
      await store.commit('session_token', enc('encoded_data'), inMinutes(1))
      await store.delete('session_token')
      expect(await count()).toBe(0)
    })

    it('removes expired rows on its cleanup timer (TestCleanup)', async () => {
      const timed = new PostgresStore(pool, { cleanupInterval: 20 })
      try {
        await timed.commit('session_token', enc('encoded_data'), new Date(Date.now() - 1_000))
        await timed.commit('live', enc('encoded_data'), inMinutes(1))
        await vi.waitFor(async () => expect(await count()).toBe(1), { timeout: 2_000 })
      } finally {
        // A sweep the timer started may still be running: wait until it has stopped, so that
        // it cannot delete the next test's expired rows.
        await timed.stopCleanup()
        timed.close()
      }
      expect(text(await store.find('live'))).toBe('encoded_data')
    })

    it('stopCleanup ends a timed sweep after its current batch and resolves once it has stopped', async () => {
      await pool.query(
        `INSERT INTO sessions (token, data, expiry) SELECT 'old' || i, '\\x00', now() - interval '1 minute' FROM generate_series(1, 5000) i`,
      )
      const timed = new PostgresStore(pool, { cleanupInterval: 10, cleanupBatchSize: 10 })
      try {
        await vi.waitFor(async () => expect(await count()).toBeLessThan(5_000), { timeout: 2_000 })
        await timed.stopCleanup()
        const left = await count()
        expect(left, 'the sweep stopped before deleting every row').toBeGreaterThan(0)
        await new Promise((resolve) => setTimeout(resolve, 100))
        expect(await count()).toBe(left)
        // A sweep the caller starts runs to its end.
        expect(await timed.deleteExpired()).toBe(left)
      } finally {
        await timed.stopCleanup()
        timed.close()
      }
    })

    it('deletes expired rows in batches and reports how many (deleteExpired)', async () => {
      await pool.query(
        "INSERT INTO sessions SELECT 'old' || i, '\\x00', current_timestamp - interval '1 second' FROM generate_series(1, 25) i",
      )
      await store.commit('live', enc('x'), inMinutes(1))
      const small = new PostgresStore(pool, { cleanupInterval: 0, cleanupBatchSize: 10 })
      expect(await small.deleteExpired()).toBe(25)
      expect(await count()).toBe(1)
    })

    it('stops a disabled cleanup without blocking, and stops idempotently (TestStopNilCleanup)', () => {
      const idle = new PostgresStore(pool, { cleanupInterval: 0 })
      idle.stopCleanup()
      idle.stopCleanup()
      idle.close()
      idle.close()
    })

    it('starts and stops 100 stores concurrently (pgx TestStopCleanup)', async () => {
      const stores = Array.from({ length: 100 }, () => new PostgresStore(pool))
      await new Promise((resolve) => setTimeout(resolve, 10))
      for (const s of stores) s.stopCleanup()
      {
        using disposable = new PostgresStore(pool, { cleanupInterval: 10 })
        expect(disposable.tableName).toBe('sessions')
      }
    })
  })

  describe('PostgresStore schema and modes', () => {
    let pool: pg.Pool
    beforeAll(() => {
      pool = newPool(pgUrl)
    })
    afterAll(async () => {
      await pool.end()
    })

    it("creates SCS's exact table and sessions_expiry_idx when missing", async () => {
      await pool.query('DROP TABLE IF EXISTS schema_check')
      const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'schema_check' })
      await store.commit('k', enc('v'), inMinutes(1))
      const { rows } = await pool.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'schema_check' ORDER BY ordinal_position",
      )
      expect(rows).toEqual([
        { column_name: 'token', data_type: 'text', is_nullable: 'NO' },
        { column_name: 'data', data_type: 'bytea', is_nullable: 'NO' },
        { column_name: 'expiry', data_type: 'timestamp with time zone', is_nullable: 'NO' },
      ])
      const idx = await pool.query(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'schema_check'",
      )
      expect(idx.rows.map((r) => r.indexdef)).toContain(
        'CREATE INDEX schema_check_expiry_idx ON public.schema_check USING btree (expiry)',
      )
      await pool.query('DROP TABLE schema_check')
    })

    it('creates the table once when many first calls race', async () => {
      await pool.query('DROP TABLE IF EXISTS race_check')
      const stores = Array.from(
        { length: 5 },
        () => new PostgresStore(pool, { cleanupInterval: 0, tableName: 'race_check' }),
      )
      await Promise.all(stores.map((s, i) => s.commit(`k${i}`, enc('v'), inMinutes(1))))
      expect((await stores[0]?.all())?.size).toBe(5)
      await pool.query('DROP TABLE race_check')
    })

    it('with createTable: false, a missing table is a StoreError naming it', async () => {
      const store = new PostgresStore(pool, {
        cleanupInterval: 0,
        createTable: false,
        tableName: 'no_such_sessions',
      })
      const err = await store.find('k').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreError)
      expect((err as StoreError).message).toMatch(/no_such_sessions/)
      expect((err as StoreError).cause).toMatchObject({ code: '42P01' })
    })

    it('works with a schema-qualified table name', async () => {
      await pool.query('CREATE SCHEMA IF NOT EXISTS auth')
      await pool.query('DROP TABLE IF EXISTS auth.sessions')
      const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'auth.sessions' })
      await store.commit('k', enc('v'), inMinutes(1))
      expect(text(await store.find('k'))).toBe('v')
      const idx = await pool.query(
        "SELECT 1 FROM pg_indexes WHERE indexname = 'sessions_expiry_idx' AND schemaname = 'auth'",
      )
      expect(idx.rowCount).toBe(1)
      await pool.query('DROP SCHEMA auth CASCADE')
    })

    it('rejects invalid options with messages naming them', () => {
      expect(() => new PostgresStore(pool, { tableName: 'x; DROP TABLE y' })).toThrow(/tableName/)
      expect(() => new PostgresStore(pool, { tableName: 'a.b.c' })).toThrow(/tableName/)
      expect(() => new PostgresStore(pool, { cleanupInterval: -1 })).toThrow(/cleanupInterval/)
      expect(() => new PostgresStore(pool, { cleanupBatchSize: 0 })).toThrow(/cleanupBatchSize/)
      expect(() => new PostgresStore(pool, { timeout: 0 })).toThrow(/timeout/)
      expect(() => new PostgresStore({} as never)).toThrow(/pg Pool/)
    })

    it("commit 'insert' takes over an expired leftover row but never a live one", async () => {
      const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'contract_modes' })
      await store.ready()
      await pool.query('TRUNCATE TABLE contract_modes')
      await store.commit('k', enc('old'), new Date(Date.now() - 1_000))
      expect(await store.commit('k', enc('new'), inMinutes(1), 'insert')).toBe(true)
      expect(text(await store.find('k'))).toBe('new')
      expect(await store.commit('k', enc('newer'), inMinutes(1), 'insert')).toBe(false)
      expect(text(await store.find('k'))).toBe('new')
      await pool.query('DROP TABLE contract_modes')
    })

    it('judges liveness on the database clock, not the app clock', async () => {
      const store = new PostgresStore(pool, { cleanupInterval: 0, tableName: 'clock_check' })
      await store.ready()
      await pool.query('TRUNCATE TABLE clock_check')
      const { rows } = await pool.query('SELECT current_timestamp AS now')
      const dbNow = (rows[0].now as Date).getTime()
      // An app clock a minute slow would call this live; the database says it expired.
      await store.commit('k', enc('v'), new Date(dbNow - 1))
      expect(await store.find('k')).toBeUndefined()
      await pool.query('DROP TABLE clock_check')
    })

    it('refuses calls after close with a StoreError', async () => {
      const store = new PostgresStore(pool, { cleanupInterval: 0 })
      store.close()
      await expect(store.find('k')).rejects.toThrow(/closed/)
    })
  })
})

describe('PostgresStore failures', () => {
  it('rejects with a StoreError whose cause is the driver error when the server refuses', async () => {
    const port = await freePort()
    const pool = newPool(`postgres://postgres@127.0.0.1:${port}/none`)
    const store = new PostgresStore(pool, { cleanupInterval: 0 })
    const err = await store.find('k').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).code).toBe('ERR_STORE')
    expect((err as StoreError).cause).toMatchObject({ code: 'ECONNREFUSED' })
    await pool.end()
  })

  it('rejects within its timeout when the server accepts but never answers', async () => {
    const silent = net.createServer(() => {})
    const sockets = new Set<net.Socket>()
    silent.on('connection', (s) => sockets.add(s))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/none` })
    pool.on('error', () => {})
    const store = new PostgresStore(pool, { cleanupInterval: 0, timeout: 200 })
    const started = performance.now()
    const err = await store.commit('k', enc('v'), inMinutes(1)).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).message).toMatch(/within 200 ms/)
    for (const s of sockets) s.destroy()
    silent.close()
    await pool.end().catch(() => {})
  })
})
