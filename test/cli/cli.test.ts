import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { readdir, readlink } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gobCodec } from '../../src/gob/index.ts'
import { SessionManager, type Store } from '../../src/index.ts'
import { handleOf } from '../../src/owners.ts'
import { PostgresStore } from '../../src/stores/postgres/index.ts'
import { RedisStore } from '../../src/stores/redis/index.ts'
import { openSQLiteStore } from '../../src/stores/sqlite/index.ts'
import { hashToken } from '../../src/token.ts'
import { BIN, cli, cliClosingAfter, jsonLines, type Result } from '../helpers/cli.ts'
import { connectCluster } from '../helpers/redis-cluster.ts'
import { named, serviceUrl } from '../helpers/services.ts'
import { connect, DEFAULT_DRIVER } from '../helpers/sqlite-drivers.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'

// A command's JSON output; a failed command fails here with its own message.
function parsed(result: Result): Record<string, unknown> {
  expect(result.stderr, result.stderr).toBe('')
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as Record<string, unknown>
}

interface Target {
  name: string
  url: string
  store(): Store & { close(): unknown }
  reset(): Promise<void>
  close(): Promise<void>
}

// Five sessions for two users, one expired row, and one Go gob session, through the real stores.
async function seed(target: Target): Promise<string[]> {
  const store = target.store()
  const sessions = new SessionManager<{ userId: string; n: number; at: Date }>({
    store,
    owner: 'userId',
  })
  const tokens: string[] = []
  for (let i = 0; i < 5; i++) {
    const s = await sessions.load('')
    s.put('userId', i % 2 === 0 ? 'ada' : 'bob')
    s.put('n', i)
    s.put('at', new Date('2026-01-02T03:04:05Z'))
    tokens.push((await sessions.commit(s)).token)
  }
  const go = new SessionManager<{ message: string }>({ store, codec: gobCodec })
  const g = await go.load('')
  g.put('message', 'from Go')
  tokens.push((await go.commit(g)).token)
  await store.commit(
    'expired-one',
    new TextEncoder().encode('{"d":0,"v":{}}'),
    new Date(Date.now() - 60_000),
  )
  await store.close()
  return tokens
}

const targets: { title: string; skip: boolean; target: () => Target }[] = []
{
  const tmp = tempDir('sessionkit-cli-')
  targets.push({
    title: 'sqlite:',
    skip: false,
    target: () => ({
      name: 'sqlite',
      url: `sqlite:${tmp.file}`,
      store: () => openSQLiteStore(tmp.file, { cleanupInterval: 0 }),
      async reset() {
        const s = openSQLiteStore(tmp.file, { cleanupInterval: 0 })
        for (const key of (await s.all()).keys()) await s.delete(key)
        await s.deleteExpired()
        s.close()
      },
      async close() {
        tmp.remove()
      },
    }),
  })
}
const pgUrl = serviceUrl('postgres')
targets.push({
  title: named('postgres://', 'postgres', pgUrl),
  skip: pgUrl === undefined,
  target: () => {
    const pool = new pg.Pool({ connectionString: pgUrl, max: 2 })
    const table = 'cli_sessions'
    return {
      name: 'postgres',
      url: pgUrl as string,
      store: () => new PostgresStore(pool, { tableName: table, cleanupInterval: 0 }),
      async reset() {
        await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_ended, ${table}_owners CASCADE`)
      },
      async close() {
        await this.reset()
        await pool.end()
      },
    }
  },
})
const redisUrl = serviceUrl('redis')
targets.push({
  title: named('redis://', 'redis', redisUrl),
  skip: redisUrl === undefined,
  target: () => {
    const client = createClient({ url: redisUrl })
    const prefix = 'cli-test:'
    const connected = client.connect()
    return {
      name: 'redis',
      url: redisUrl as string,
      store: () => {
        const store = new RedisStore(client, { prefix })
        return Object.assign(store, { close: () => {} })
      },
      async reset() {
        await connected
        for (const pattern of [
          `${prefix}*`,
          `sessionkit:owner:{${prefix}*`,
          'sessionkit:ended:*',
        ]) {
          const keys = await client.keys(pattern)
          if (keys.length > 0) await client.del(keys)
        }
      },
      async close() {
        await this.reset()
        await client.close()
      },
    }
  },
})

const extra = (t: Target): string[] =>
  t.name === 'postgres'
    ? ['--table', 'cli_sessions']
    : t.name === 'redis'
      ? ['--prefix', 'cli-test:']
      : []

for (const { title, skip, target: make } of targets) {
  describe.skipIf(skip)(`sessionkit CLI on ${title}`, () => {
    let t: Target
    let tokens: string[]
    beforeAll(async () => {
      t = make()
      await t.reset()
      tokens = await seed(t)
    })
    afterAll(async () => {
      await t.close()
    })

    it('stats: counts rows, live and expired, codecs and owners, as text and --json', async () => {
      const text = await cli(['stats', t.url, ...extra(t)])
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(/^rows\s+/m)
      // No colour when stdout is not a terminal.
      expect(text.stdout).not.toContain(String.fromCharCode(27))
      const json = await cli(['stats', t.url, ...extra(t), '--json'])
      const stats = parsed(json) as Record<string, unknown>
      // Redis drops an expired key itself; the SQL stores keep the row until a prune.
      const expired = t.name === 'redis' ? 0 : 1
      expect(stats).toMatchObject({
        live: 6,
        expired,
        rows: 6 + expired,
        owners: { owners: 2, sessions: 5 },
      })
      expect(stats.codecs).toEqual({ json: 5 + expired, gob: 1 })
      if (t.name === 'sqlite') expect(stats.file).toMatchObject({ journalMode: 'wal' })
    })

    it('list: live sessions by handle, never a token unless --show-tokens; --owner and --limit', async () => {
      const all = await cli(['list', t.url, ...extra(t)])
      expect(all.code).toBe(0)
      for (const token of tokens) expect(all.stdout).not.toContain(token)
      expect(all.stdout.trim().split('\n')).toHaveLength(7) // header + 6
      const ada = jsonLines(
        (await cli(['list', t.url, ...extra(t), '--owner', 'ada', '--json'])).stdout,
      )
      expect(ada.map((r) => r.owner)).toEqual(['ada', 'ada', 'ada'])
      expect(ada.every((r) => r.key === undefined)).toBe(true)
      const shown = jsonLines(
        (await cli(['list', t.url, ...extra(t), '--limit', '2', '--show-tokens', '--json'])).stdout,
      )
      expect(shown).toHaveLength(2)
      expect(tokens).toContain(shown[0]?.key)
    })

    it('show: decodes a sessionkit JSON session and a Go gob one', async () => {
      const json = parsed(
        await cli(['show', ...extra(t), '--json', '--', t.url, tokens[1] as string]),
      )
      expect(json).toMatchObject({
        codec: 'json',
        owner: 'bob',
        values: { userId: 'bob', n: 1, at: '2026-01-02T03:04:05.000Z' },
      })
      const gob = parsed(
        await cli(['show', ...extra(t), '--json', '--', t.url, tokens[5] as string]),
      )
      expect(gob).toMatchObject({ codec: 'gob', values: { message: 'from Go' } })
      const missing = await cli(['show', t.url, 'no-such-token', ...extra(t)])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/no live session/)
    })

    it('export | import: moves every live session into a SQLite file import creates, skipping ones already there', async () => {
      const exported = await cli(['export', t.url, ...extra(t)])
      expect(exported.code).toBe(0)
      const rows = jsonLines(exported.stdout)
      expect(rows).toHaveLength(6)
      expect(rows[0]).toMatchObject({
        key: expect.any(String),
        data: expect.any(String),
        expiresAt: expect.any(String),
      })
      const other = tempDir('sessionkit-cli-import-')
      try {
        expect(existsSync(other.file)).toBe(false)
        const first = await cli(['import', `sqlite:${other.file}`, '--json'], {
          input: exported.stdout,
        })
        expect(parsed(first)).toEqual({ written: 6, skipped: 0, expired: 0 })
        // Made as openSQLiteStore makes a file: WAL, not the rollback journal a bare open leaves.
        const made = connect(DEFAULT_DRIVER, other.file)
        expect(made.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
        expect(made.prepare('SELECT count(*) AS n FROM sessions').get()).toEqual({ n: 6 })
        made.close()
        const again = await cli(['import', `sqlite:${other.file}`, '--json'], {
          input: exported.stdout,
        })
        expect(parsed(again)).toEqual({ written: 0, skipped: 6, expired: 0 })
        const replaced = await cli(['import', `sqlite:${other.file}`, '--replace', '--json'], {
          input: exported.stdout,
        })
        expect(parsed(replaced)).toEqual({ written: 6, skipped: 0, expired: 0 })
        // The moved sessions read back through a manager, owners included.
        const store = openSQLiteStore(other.file, { cleanupInterval: 0 })
        const sessions = new SessionManager<{ userId: string }>({ store, owner: 'userId' })
        expect((await sessions.load(tokens[0] as string)).get('userId')).toBe('ada')
        expect(await sessions.listOwned('ada')).toHaveLength(3)
        store.close()
        const bad = await cli(['import', `sqlite:${other.file}`], {
          input: '{"key":"x"}\nnot json\n',
        })
        expect(bad.code).toBe(1)
        expect(bad.stderr).toMatch(/line 1 lacks key, expiresAt or data/)
      } finally {
        other.remove()
      }
    })

    it('revoke: one token, then every session of a user but one', async () => {
      const one = await cli(['revoke', ...extra(t), '--json', '--', t.url, tokens[3] as string])
      expect(parsed(one)).toEqual({ revoked: 1 })
      expect((await cli(['revoke', ...extra(t), '--', t.url, tokens[3] as string])).code).toBe(1)
      const ada = await cli([
        'revoke',
        t.url,
        '--owner',
        'ada',
        `--except=${tokens[0]}`,
        ...extra(t),
        '--json',
      ])
      expect(parsed(ada)).toEqual({ revoked: 2 })
      const left = jsonLines(
        (await cli(['list', t.url, ...extra(t), '--json', '--show-tokens'])).stdout,
      )
      expect(left.map((r) => r.key).sort()).toEqual([tokens[0], tokens[1], tokens[5]].sort())
    })

    it('show and revoke take the handle list prints, and so does --except', async () => {
      // Left by the revoke test: tokens 0 (ada), 1 (bob) and 5 (Go, no owner).
      const listed = jsonLines((await cli(['list', t.url, ...extra(t), '--json'])).stdout)
      const handles = [tokens[0], tokens[1], tokens[5]].map((token) => handleOf(token as string))
      expect(listed.map((r) => r.handle).sort()).toEqual([...handles].sort())
      const [ada, bob, go] = handles as [string, string, string]
      const shown = parsed(await cli(['show', ...extra(t), '--json', '--', t.url, bob]))
      expect(shown).toMatchObject({ handle: bob, owner: 'bob', values: { userId: 'bob', n: 1 } })
      const kept = await cli(['revoke', t.url, '--owner', 'ada', `--except=${ada}`, ...extra(t)])
      expect(kept.stdout).toBe('revoked 0 sessions\n')
      expect(parsed(await cli(['revoke', ...extra(t), '--json', '--', t.url, go]))).toEqual({
        revoked: 1,
      })
      for (const command of ['show', 'revoke']) {
        const gone = await cli([command, ...extra(t), '--', t.url, go])
        expect(gone.code, command).toBe(1)
        expect(gone.stderr, command).toBe(
          `sessionkit ${command}: no live session for that token or handle\n`,
        )
      }
      const left = jsonLines(
        (await cli(['list', t.url, ...extra(t), '--json', '--show-tokens'])).stdout,
      )
      expect(left.map((r) => r.key).sort()).toEqual([tokens[0], tokens[1]].sort())
    })

    it('prune: deletes the expired rows and says how many', async () => {
      const out = await cli(['prune', t.url, ...extra(t), '--json'])
      expect(out.code).toBe(0)
      expect(parsed(out)).toMatchObject({ deleted: t.name === 'redis' ? 0 : 1 })
      const stats = parsed(await cli(['stats', t.url, ...extra(t), '--json']))
      expect(stats.expired).toBe(0)
    })

    it('hashTokenInStore: a session by its token with --hash-tokens, by its handle either way', async () => {
      const store = t.store()
      const hashed = new SessionManager<{ n: number }>({ store, hashTokenInStore: true })
      const s = await hashed.load('')
      s.put('n', 7)
      const { token } = await hashed.commit(s)
      await store.close()
      // The handle is of the store key, the token's hash, as list and listOwned compute it.
      const handle = handleOf(hashToken(token))
      const listed = jsonLines((await cli(['list', t.url, ...extra(t), '--json'])).stdout)
      expect(listed.map((r) => r.handle)).toContain(handle)
      const byToken = await cli([
        'show',
        ...extra(t),
        '--hash-tokens',
        '--json',
        '--',
        t.url,
        token,
      ])
      expect(parsed(byToken)).toMatchObject({ handle, values: { n: 7 } })
      for (const flags of [[], ['--hash-tokens']]) {
        const byHandle = await cli(['show', ...extra(t), ...flags, '--json', '--', t.url, handle])
        expect(parsed(byHandle), flags.join()).toMatchObject({ handle, values: { n: 7 } })
      }
      // The raw token is not a key of this store: without --hash-tokens it names nothing.
      expect((await cli(['show', ...extra(t), '--', t.url, token])).code).toBe(1)
      const revoked = await cli([
        'revoke',
        ...extra(t),
        '--hash-tokens',
        '--json',
        '--',
        t.url,
        handle,
      ])
      expect(parsed(revoked)).toEqual({ revoked: 1 })
    })

    it('list and export read more than a page (1,200 sessions, one expiry) without repeats or gaps', async () => {
      await t.reset()
      const store = t.store()
      const expiry = new Date(Date.now() + 3_600_000)
      const data = new TextEncoder().encode('{"d":0,"v":{}}')
      const keys = Array.from({ length: 1_200 }, (_, i) => `page-${String(i).padStart(4, '0')}`)
      for (let i = 0; i < keys.length; i += 100) {
        await Promise.all(keys.slice(i, i + 100).map((k) => store.commit(k, data, expiry)))
      }
      await store.close()
      const listed = jsonLines(
        (await cli(['list', t.url, ...extra(t), '--json', '--show-tokens', '--limit', '5000']))
          .stdout,
      )
      expect(listed.map((r) => r.key).sort()).toEqual(keys)
      const limited = jsonLines(
        (await cli(['list', t.url, ...extra(t), '--json', '--limit', '700'])).stdout,
      )
      expect(new Set(limited.map((r) => r.handle)).size).toBe(700)
      const exported = jsonLines((await cli(['export', t.url, ...extra(t)])).stdout)
      expect(exported.map((r) => r.key).sort()).toEqual(keys)
    }, 60_000)
  })
}

describe('sessionkit CLI usage', () => {
  it('answers --help for the program and for every command, exit 0', async () => {
    const main = await cli(['--help'])
    expect(main.code).toBe(0)
    for (const command of ['stats', 'list', 'show', 'prune', 'revoke', 'export', 'import']) {
      expect(main.stdout).toContain(`sessionkit ${command}`)
      const help = await cli([command, '--help'])
      expect(help.code, command).toBe(0)
      expect(help.stdout, command).toMatch(new RegExp(`^sessionkit ${command} <store>`))
    }
    expect(main.stdout).toContain('sessionkit show <store> <token|handle>')
    expect(main.stdout).toMatch(/A handle \(what list prints[\s\S]*reading every session's key/)
    expect((await cli(['import', '--help'])).stdout).toMatch(
      /missing[\s\S]*is created as\s+openSQLiteStore/,
    )
  })

  it.each([
    [['frobnicate', 'sqlite:x.db'], /unknown command 'frobnicate'/],
    [[], /missing command/],
    [['stats'], /missing <store>/],
    [['stats', 'mysql://x'], /unknown store 'mysql:\/\/x'/],
    [['list', 'sqlite:x.db', '--limit', 'ten'], /--limit must be a positive integer, got 'ten'/],
    [['stats', 'sqlite:x.db', '--owner', 'a'], /'--owner' is not an option of stats/],
    [['list', 'sqlite:x.db', '--frob'], /Unknown option '--frob'/],
    [['show', 'sqlite:x.db'], /missing <token\|handle>/],
    [['revoke', 'sqlite:x.db', 't', 'u'], /unexpected argument 'u'/],
    [['stats', 'sqlite:x.db', '--prefix', 'p:'], /--prefix is for Redis/],
  ])('exits 2 on bad usage, naming the argument: %j', async (args, message) => {
    const tmp = tempDir('sessionkit-cli-usage-')
    try {
      openSQLiteStore(`${tmp.dir}/x.db`, { cleanupInterval: 0 }).close()
      const fixed = (args as string[]).map((a) =>
        a.replace('sqlite:x.db', `sqlite:${tmp.dir}/x.db`),
      )
      const out = await cli(fixed)
      expect(out.code).toBe(2)
      expect(out.stderr).toMatch(message as RegExp)
      expect(out.stdout).toBe('')
    } finally {
      tmp.remove()
    }
  })

  it('exits 1 with a clear message when the store cannot be opened', async () => {
    const missing = await cli(['stats', 'sqlite:/nonexistent/sessions.db'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(
      /no SQLite file at "\/nonexistent\/sessions.db" \(only import creates one\)/,
    )
    const tmp = tempDir('sessionkit-cli-notable-')
    try {
      const db = openSQLiteStore(tmp.file, { cleanupInterval: 0, tableName: 'other' })
      db.close()
      const wrong = await cli(['stats', `sqlite:${tmp.file}`])
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toMatch(/has no table "sessions".*--table/)
    } finally {
      tmp.remove()
    }
    const dead = await cli(['stats', 'redis://127.0.0.1:1'])
    expect(dead.code).toBe(1)
    expect(dead.stderr).toMatch(/ECONNREFUSED/)
  })
})

/** Resolves once process `pid` holds a descriptor on `file` (Linux /proc). */
async function waitForOpenFile(pid: number, file: string): Promise<void> {
  const deadline = performance.now() + 10_000
  for (;;) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
    const targets = await Promise.all(
      fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
    )
    if (targets.includes(file)) return
    if (performance.now() > deadline) throw new Error(`process ${pid} never opened ${file}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('sessionkit on a SQLite file another process has locked for writing', () => {
  const cliAsync = (args: string[]) => cli(args)

  // A sessions file holding one session, 'tok', and a second connection to it (the test's lock).
  const lockedFile = async () => {
    const tmp = tempDir('sessionkit-cli-locked-')
    const store = openSQLiteStore(tmp.file, { cleanupInterval: 0 })
    const data = new TextEncoder().encode('{"d":0,"v":{}}')
    await store.commit('tok', data, new Date(Date.now() + 60_000))
    store.close()
    await store.whenClosed()
    const { connect, DEFAULT_DRIVER } = await import('../helpers/sqlite-drivers.ts')
    return { tmp, holder: connect(DEFAULT_DRIVER, tmp.file) }
  }

  it('waits --busy-timeout for the lock, then exits 1 saying so and changes nothing', async () => {
    const { tmp, holder } = await lockedFile()
    try {
      holder.exec('BEGIN IMMEDIATE')
      const started = performance.now()
      const out = await cliAsync([
        'revoke',
        '--busy-timeout',
        '300',
        '--json',
        '--',
        `sqlite:${tmp.file}`,
        'tok',
      ])
      expect(out.code).toBe(1)
      expect(out.stderr).toMatch(/SQLITE_BUSY|locked/i)
      // Its own 5 s default would take longer than this, Node's start-up included.
      expect(performance.now() - started).toBeLessThan(4_000)
      holder.exec('ROLLBACK')
      const left = holder.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }
      expect(left.n).toBe(1)
    } finally {
      holder.close()
      tmp.remove()
    }
  })

  it('goes on once the lock is let go within its busy timeout', async () => {
    const { tmp, holder } = await lockedFile()
    try {
      holder.exec('BEGIN IMMEDIATE')
      const child = spawn(process.execPath, [
        BIN,
        'revoke',
        '--json',
        '--',
        `sqlite:${tmp.file}`,
        'tok',
      ])
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => {
        stdout += chunk
      })
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
      // Once the command has the file open (its descriptors show it) it reads the row and blocks
      // on the write lock within moments; it must still be running when the lock is let go.
      await waitForOpenFile(child.pid as number, tmp.file)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(child.exitCode, 'still waiting for the lock').toBeNull()
      holder.exec('ROLLBACK')
      expect(await exited).toBe(0)
      expect(stderr).toBe('')
      expect(JSON.parse(stdout)).toEqual({ revoked: 1 })
      const left = holder.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }
      expect(left.n).toBe(0)
    } finally {
      holder.close()
      tmp.remove()
    }
  })

  it('refuses --busy-timeout for a store that is not a SQLite file', async () => {
    const out = await cliAsync(['stats', 'redis://127.0.0.1:1', '--busy-timeout', '10'])
    expect(out.code).toBe(2)
    expect(out.stderr).toMatch(/--busy-timeout is for SQLite files/)
  })
})

describe('sessionkit prune on a large SQLite file while an app keeps writing', () => {
  it('deletes 1,000,000 expired rows in batches while another process commits, with bounded write latency', async () => {
    const rows = Number(process.env.SESSIONKIT_PRUNE_ROWS ?? 1_000_000)
    const tmp = tempDir('sessionkit-cli-prune-')
    try {
      const store = openSQLiteStore(tmp.file, { cleanupInterval: 0 })
      store.close()
      // Filled with SQL directly: a million commits through a store would take the test's time.
      const fill = await import('../helpers/sqlite-drivers.ts')
      const db = fill.connect(fill.DEFAULT_DRIVER, tmp.file)
      db.exec('BEGIN')
      db.exec(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO sessions SELECT 'expired-' || i, randomblob(100), julianday('now', '-1 hour') FROM n`,
      )
      db.exec('COMMIT')
      db.close()
      // The app: another process committing as fast as it can, timing each acknowledged write.
      const writer = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          fileURLToPath(new URL('../fixtures/cli-writer.ts', import.meta.url)),
          tmp.file,
        ],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      )
      const ready = new Promise<void>((resolve) => writer.stdout.once('data', () => resolve()))
      await ready
      const started = performance.now()
      const pruned = await cli(['prune', `sqlite:${tmp.file}`, '--json'])
      const seconds = (performance.now() - started) / 1000
      writer.stdin.end('stop\n')
      const report = await new Promise<{
        writes: number
        maxMs: number
        p99Ms: number
        errors: number
      }>((resolve) => {
        let out = ''
        writer.stdout.on('data', (c: Buffer) => {
          out += c.toString()
        })
        writer.once('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() as string)))
      })
      expect(pruned.code).toBe(0)
      expect(parsed(pruned).deleted).toBe(rows)
      expect(report.errors).toBe(0)
      expect(report.writes).toBeGreaterThan(100)
      // A batch holds the write lock for a few ms; the app never waits for the whole prune.
      expect(report.maxMs).toBeLessThan(1_000)
      console.info(
        `prune: ${rows.toLocaleString('en-US')} expired rows in ${seconds.toFixed(1)} s while another process made ${report.writes} writes (largest write latency ${report.maxMs.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms)`,
      )
    } finally {
      tmp.remove()
    }
  }, 180_000)
})

describe('sessionkit import into a SQLite file that is not there', () => {
  const line = (key: string) =>
    `${JSON.stringify({ key, expiresAt: new Date(Date.now() + 60_000).toISOString(), data: Buffer.from('{"d":0,"v":{}}').toString('base64') })}\n`

  it('makes an empty (touched) file a WAL sessions file, as openSQLiteStore would', async () => {
    const tmp = tempDir('sessionkit-cli-touched-')
    try {
      writeFileSync(tmp.file, '')
      const out = await cli(['import', `sqlite:${tmp.file}`, '--json'], { input: line('a') })
      expect(parsed(out)).toEqual({ written: 1, skipped: 0, expired: 0 })
      const db = connect(DEFAULT_DRIVER, tmp.file)
      expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
      expect(db.prepare('SELECT token FROM sessions').all()).toEqual([{ token: 'a' }])
      db.close()
    } finally {
      tmp.remove()
    }
  })

  it('creates the file under --table with that table', async () => {
    const tmp = tempDir('sessionkit-cli-table-')
    try {
      const out = await cli(['import', `sqlite:${tmp.file}`, '--table', 'web_sessions', '--json'], {
        input: line('a'),
      })
      expect(parsed(out)).toEqual({ written: 1, skipped: 0, expired: 0 })
      const db = connect(DEFAULT_DRIVER, tmp.file)
      expect(db.prepare('SELECT token FROM web_sessions').all()).toEqual([{ token: 'a' }])
      db.close()
    } finally {
      tmp.remove()
    }
  })

  it('says the folder does not exist when it does not, and creates nothing', async () => {
    const tmp = tempDir('sessionkit-cli-nofolder-')
    try {
      const file = `${tmp.dir}/missing/sessions.db`
      const out = await cli(['import', `sqlite:${file}`], { input: line('a') })
      expect(out.code).toBe(1)
      expect(out.stderr).toBe(
        `sessionkit import: cannot create ${JSON.stringify(file)}: the folder ${JSON.stringify(`${tmp.dir}/missing`)} does not exist (create it first)\n`,
      )
      expect(existsSync(`${tmp.dir}/missing`)).toBe(false)
    } finally {
      tmp.remove()
    }
  })

  it.each([['stats'], ['list'], ['show', 'tok'], ['revoke', 'tok'], ['prune'], ['export']])(
    '%s refuses a missing file and creates none',
    async (command, ...args) => {
      const tmp = tempDir('sessionkit-cli-refuse-')
      try {
        const out = await cli([command, `sqlite:${tmp.file}`, ...args])
        expect(out.code).toBe(1)
        expect(out.stderr).toBe(
          `sessionkit ${command}: no SQLite file at ${JSON.stringify(tmp.file)} (only import creates one)\n`,
        )
        expect(existsSync(tmp.file)).toBe(false)
      } finally {
        tmp.remove()
      }
    },
  )

  it('refuses a folder given as the file, for import too', async () => {
    const tmp = tempDir('sessionkit-cli-dir-')
    try {
      mkdirSync(`${tmp.dir}/sessions.db`)
      for (const command of ['stats', 'import']) {
        const out = await cli([command, `sqlite:${tmp.dir}/sessions.db`])
        expect(out.code, command).toBe(1)
        expect(out.stderr, command).toMatch(/is a directory, not a SQLite file/)
      }
    } finally {
      tmp.remove()
    }
  })
})

describe('sessionkit writing into a pipe whose reader goes away (| head)', () => {
  const ROWS = 5_000
  const tmp = tempDir('sessionkit-cli-pipe-')
  const url = `sqlite:${tmp.file}`
  beforeAll(() => {
    openSQLiteStore(tmp.file, { cleanupInterval: 0 }).close()
    // Filled with SQL directly; each session expires a second after the one before it.
    const db = connect(DEFAULT_DRIVER, tmp.file)
    db.exec(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) INSERT INTO sessions SELECT 'live-' || i, CAST('{"d":0,"v":{"n":' || i || '}}' AS BLOB), julianday('now', '+1 hour', '+' || i || ' seconds') FROM n`,
    )
    db.close()
  })
  afterAll(() => tmp.remove())

  it('reads every one of the rows it then writes in part (the check below is not vacuous)', async () => {
    const all = await cli(['export', url])
    expect(all.code).toBe(0)
    expect(all.stdout.length).toBeGreaterThan(10 * 65_536)
    const listed = jsonLines((await cli(['list', url, '--json', '--limit', '10000'])).stdout)
    expect(listed).toHaveLength(ROWS)
    // Soonest expiry first, across pages.
    const expiries = listed.map((r) => r.expiresAt as string)
    expect(expiries).toEqual([...expiries].sort())
  })

  it.each([
    ['list --json (after 2 lines)', ['list', url, '--json', '--limit', '10000'], 2],
    ['list, a table (after 2 lines)', ['list', url, '--limit', '10000'], 2],
    ['export (after 2 lines)', ['export', url], 2],
    ['stats (before its first line)', ['stats', url], 0],
    ['list (before its first line)', ['list', url], 0],
  ])('%s: exits 0 at once, with nothing on stderr', async (_, args, lines) => {
    const out = await cliClosingAfter(args as string[], lines as number)
    expect(out.stderr).toBe('')
    expect(out.signal).toBeNull()
    expect(out.code).toBe(0)
    if (lines === 2) {
      expect(out.read).toHaveLength(2)
      expect(out.read.every((l) => l.length > 0)).toBe(true)
    }
    // It stops instead of reading the rest of the store into the dead pipe (the guard is 30 s).
    expect(out.msAfterClose).toBeLessThan(5_000)
  })
})

const clusterUrl = serviceUrl('redis-cluster')
describe.skipIf(clusterUrl === undefined)(
  named(
    'sessionkit show and revoke by handle on a Redis Cluster node',
    'redis-cluster',
    clusterUrl,
  ),
  () => {
    it("finds a handle's key on whichever master holds it", async () => {
      const urls = clusterUrl as string
      const node = urls.split(',')[0] as string
      const prefix = 'cli-handles:'
      const { client, close } = await connectCluster('ioredis', urls)
      const store = new RedisStore(client, { prefix })
      const keys = Array.from({ length: 60 }, (_, i) => `tok${i}`)
      try {
        const data = new TextEncoder().encode('{"d":0,"v":{"n":1}}')
        await Promise.all(keys.map((k) => store.commit(k, data, new Date(Date.now() + 600_000))))
        const listed = jsonLines(
          (await cli(['list', node, '--prefix', prefix, '--json', '--limit', '100'])).stdout,
        )
        expect(listed.map((r) => r.handle).sort()).toEqual(keys.map((k) => handleOf(k)).sort())
        for (const key of ['tok3', 'tok42']) {
          const handle = handleOf(key)
          const shown = await cli(['show', '--prefix', prefix, '--json', '--', node, handle])
          expect(parsed(shown), key).toMatchObject({ handle, values: { n: 1 } })
          const revoked = await cli(['revoke', '--prefix', prefix, '--json', '--', node, handle])
          expect(parsed(revoked), key).toEqual({ revoked: 1 })
          expect(await store.find(key), key).toBeUndefined()
        }
        const gone = await cli(['show', '--prefix', prefix, '--', node, handleOf('tok3')])
        expect(gone.stderr).toMatch(/no live session for that token or handle/)
      } finally {
        await Promise.all(keys.map((k) => store.delete(k)))
        await close()
      }
    }, 60_000)
  },
)
