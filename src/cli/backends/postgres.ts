import type { Pool, PoolConfig } from 'pg'
import { StoreError } from '../../errors.js'
import { PostgresStore, postgresOwnersTableName } from '../../stores/postgres/index.js'
import {
  type Backend,
  listedKeys,
  revokeLive,
  type StoredSession,
  type StoreStats,
  writeThrough,
} from '../backend.js'
import { peer, redact } from '../open.js'

// Rows a page of a listing.
const PAGE = 500

interface Row {
  token: string
  data: Uint8Array
  expiry: Date
  owner?: string | null
}

/**
 * Connects to the PostgreSQL database at `url` with a pool of its own (two connections, 10 s to
 * connect) and checks that `table` is there, unless `create` (import) may make it.
 */
export async function openPostgresBackend(
  url: string,
  options: { table: string; create: boolean },
): Promise<Backend> {
  const pg = await peer<{ default: { Pool: new (config: PoolConfig) => Pool } }>('pg', 'Postgres')
  const pool = new pg.default.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 10_000,
  })
  // A dropped idle connection must not end the process with an unhandled 'error'.
  pool.on('error', () => {})
  try {
    const store = new PostgresStore(pool, {
      tableName: options.table,
      cleanupInterval: 0,
      createTable: options.create,
      timeout: 30_000,
    })
    const present = await pool.query<{ present: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [options.table],
    )
    if (!options.create && present.rows[0]?.present !== true) {
      throw new StoreError(
        `${redact(url)} has no table "${options.table}": is this the sessions database (or pass --table)?`,
      )
    }
    return new PostgresBackend(redact(url), pool, store, options.table)
  } catch (err) {
    await pool.end().catch(() => {})
    throw err
  }
}

class PostgresBackend implements Backend {
  readonly name: string
  readonly #pool: Pool
  readonly #store: PostgresStore
  readonly #table: string

  constructor(name: string, pool: Pool, store: PostgresStore, table: string) {
    this.name = name
    this.#pool = pool
    this.#store = store
    this.#table = table
  }

  async #owners(): Promise<string | undefined> {
    const owners = postgresOwnersTableName(this.#table)
    const r = await this.#pool.query<{ present: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS present',
      [owners],
    )
    return r.rows[0]?.present === true ? owners : undefined
  }

  async stats(): Promise<StoreStats> {
    const t = this.#table
    const { rows } = await this.#pool.query<{
      rows: string
      live: string
      bytes: string
      oldest: Date | null
      newest: Date | null
      json: string
    }>(
      `SELECT COUNT(*) AS rows, COUNT(*) FILTER (WHERE current_timestamp < expiry) AS live, COALESCE(SUM(octet_length(data)), 0) AS bytes, MIN(expiry) AS oldest, MAX(expiry) AS newest, COUNT(*) FILTER (WHERE get_byte(data, 0) = 123) AS json FROM ${t}`,
    )
    const r = rows[0] as NonNullable<(typeof rows)[number]>
    const total = Number(r.rows)
    const stats: StoreStats = {
      store: this.name,
      rows: total,
      live: Number(r.live),
      expired: total - Number(r.live),
      dataBytes: Number(r.bytes),
      codecs: Object.fromEntries(
        [
          ['json', Number(r.json)],
          ['gob', total - Number(r.json)],
        ].filter(([, n]) => (n as number) > 0),
      ),
    }
    if (r.oldest !== null) stats.oldestExpiry = r.oldest
    if (r.newest !== null) stats.newestExpiry = r.newest
    const owners = await this.#owners()
    if (owners !== undefined) {
      const o = await this.#pool.query<{ owners: string; sessions: string }>(
        `SELECT COUNT(DISTINCT owner) AS owners, COUNT(*) AS sessions FROM ${owners}`,
      )
      stats.owners = { owners: Number(o.rows[0]?.owners), sessions: Number(o.rows[0]?.sessions) }
    }
    return stats
  }

  async *list(options: {
    owner?: string
    limit?: number
    anyOrder?: boolean
  }): AsyncIterable<StoredSession> {
    const owners = await this.#owners()
    if (options.owner !== undefined && owners === undefined) return
    const join = owners === undefined ? '' : `LEFT JOIN ${owners} o ON o.token = s.token`
    // Pages resume after the last row seen. By key, a session an app writes meanwhile is read
    // once; by expiry (then key, for ties), one whose expiry moves on may be read again. The
    // expiry goes back as text: a Date has only ms, the column has µs (Go SCS writes them).
    const byKey = options.anyOrder === true
    const order = byKey ? 's.token' : 's.expiry, s.token'
    let left = options.limit ?? Number.POSITIVE_INFINITY
    let last: (Row & { at: string }) | undefined
    while (left > 0) {
      const params: unknown[] = []
      let where = ''
      if (options.owner !== undefined) {
        params.push(options.owner)
        where += ` AND o.owner = $${params.length}`
      }
      if (last !== undefined && byKey) {
        params.push(last.token)
        where += ` AND s.token > $${params.length}`
      } else if (last !== undefined) {
        params.push(last.at, last.token)
        where += ` AND (s.expiry, s.token) > ($${params.length - 1}::timestamptz, $${params.length})`
      }
      const size = Math.min(PAGE, left)
      params.push(size)
      const sql = `SELECT s.token, s.data, s.expiry, s.expiry::text AS at${owners === undefined ? '' : ', o.owner'} FROM ${this.#table} s ${join} WHERE current_timestamp < s.expiry${where} ORDER BY ${order} LIMIT $${params.length}`
      const { rows } = await this.#pool.query<Row & { at: string }>(sql, params)
      for (const row of rows) yield toSession(row)
      if (rows.length < size) return
      left -= rows.length
      last = rows[rows.length - 1]
    }
  }

  async *keys(): AsyncIterable<string> {
    let after: string | undefined
    for (;;) {
      const { rows } = await this.#pool.query<{ token: string }>(
        `SELECT token FROM ${this.#table} WHERE current_timestamp < expiry${after === undefined ? '' : ' AND token > $2'} ORDER BY token LIMIT $1`,
        after === undefined ? [PAGE] : [PAGE, after],
      )
      for (const row of rows) yield row.token
      after = rows[rows.length - 1]?.token
      if (rows.length < PAGE || after === undefined) return
    }
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const owners = await this.#owners()
    const { rows } = await this.#pool.query<Row>(
      `SELECT s.token, s.data, s.expiry${owners === undefined ? '' : `, (SELECT owner FROM ${owners} WHERE token = s.token) AS owner`} FROM ${this.#table} s WHERE s.token = $1 AND current_timestamp < s.expiry`,
      [key],
    )
    return rows[0] === undefined ? undefined : toSession(rows[0])
  }

  async countExpired(): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM ${this.#table} WHERE expiry < current_timestamp`,
    )
    return Number(rows[0]?.n ?? 0)
  }

  async pruneBatch(size: number): Promise<number> {
    const r = await this.#pool.query(
      `DELETE FROM ${this.#table} WHERE token IN (SELECT token FROM ${this.#table} WHERE expiry < current_timestamp LIMIT $1)`,
      [size],
    )
    return r.rowCount ?? 0
  }

  revoke(key: string): Promise<boolean> {
    return revokeLive(this, this.#store, key)
  }

  ownedKeys(owner: string): Promise<string[]> {
    return listedKeys(this, owner)
  }

  write(session: StoredSession, replace: boolean): Promise<boolean> {
    return writeThrough(this.#store, session, replace)
  }

  async close(): Promise<void> {
    this.#store.close()
    await this.#pool.end()
  }
}

function toSession(row: Row): StoredSession {
  const session: StoredSession = { key: row.token, data: row.data, expiresAt: row.expiry }
  if (row.owner != null) session.owner = row.owner
  return session
}
