import { randomBytes } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Contender } from './contenders.ts'
import { ServerProcess } from './contenders.ts'
import type { LoadGenerator, LoadResult } from './load.ts'
import { checkRoundTrip, createSessions } from './seed-sessions.ts'
import { median } from './stats.ts'

/** One request shape the servers are measured on. */
export interface Scenario {
  id: 'bare' | 'get' | 'put' | 'new'
  label: string
  path: string
  /** Sends a valid session cookie, rotating among the pre-created sessions. */
  withCookie: boolean
}

/** The four scenarios of the issue, in table order. */
export const SCENARIOS: Scenario[] = [
  { id: 'bare', label: '(a) /bare', path: '/bare', withCookie: false },
  { id: 'get', label: '(b) /get, valid cookie', path: '/get', withCookie: true },
  { id: 'put', label: '(c) /put, valid cookie', path: '/put', withCookie: true },
  { id: 'new', label: '(d) /put, no cookie', path: '/put', withCookie: false },
]

/** How hard and how long to load each server. */
export interface LoadPlan {
  connections: number
  warmupSeconds: number
  seconds: number
  repeats: number
  sessions: number
  serverCore: number | undefined
}

/** The median of the repeats of one server × scenario. */
export interface Cell {
  rps: number
  p99: number
  runs: LoadResult[]
}

/** What happened to the session table or map after scenario (d). */
export interface StoreAfter {
  rows: number
  bytes?: number | undefined
}

/** Everything one contender produced: its cells, or why it could not run. */
export interface ContenderResult {
  contender: Contender
  failed?: string | undefined
  cells: Map<Scenario['id'], Cell>
  after?: StoreAfter | undefined
}

interface Live {
  contender: Contender
  server: ServerProcess
  db: string | undefined
  cookies: string[]
  result: ContenderResult
}

// The bare servers ignore cookies; they get same-shaped ones so request sizes match.
function fakeCookies(count: number): string[] {
  return Array.from({ length: count }, () => `session=${randomBytes(32).toString('base64url')}`)
}

function sqliteAfter(path: string): StoreAfter {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const row = db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }
    let bytes = statSync(path).size
    if (existsSync(`${path}-wal`)) bytes += statSync(`${path}-wal`).size
    return { rows: row.n, bytes }
  } finally {
    db.close()
  }
}

/**
 * Starts every contender, creates its sessions through its own /put, then loads every server ×
 * scenario in rounds (all servers in round 1, then all in round 2…) so background noise spreads
 * over everyone; reports the median of the rounds.
 */
export async function runMatrix(
  contenders: Contender[],
  load: LoadGenerator,
  plan: LoadPlan,
  dir: string,
  log: (line: string) => void,
): Promise<ContenderResult[]> {
  const results: ContenderResult[] = []
  const live: Live[] = []
  for (const contender of contenders) {
    const result: ContenderResult = { contender, cells: new Map() }
    results.push(result)
    const db = contender.store === 'sqlite' ? join(dir, `${contender.id}.db`) : undefined
    try {
      const server = await ServerProcess.start(contender, { db, core: plan.serverCore })
      try {
        const cookies =
          contender.store === 'none'
            ? fakeCookies(plan.sessions)
            : await createSessions(server.port, plan.sessions)
        if (contender.store !== 'none') await checkRoundTrip(server.port, cookies[0] as string)
        live.push({ contender, server, db, cookies, result })
        log(`  started ${contender.label} (port ${server.port})`)
      } catch (err) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        const line = server.errorLine()
        await server.stop()
        throw line ? new Error(`${(err as Error).message}; server: ${line.trim()}`) : err
      }
    } catch (err) {
      result.failed = (err as Error).message
      log(`  SKIPPED ${contender.label}: ${result.failed}`)
    }
  }
  const runs = new Map<string, LoadResult[]>()
  for (let round = 0; round < plan.repeats; round++) {
    log(`  round ${round + 1}/${plan.repeats}`)
    for (const item of live) {
      for (const scenario of SCENARIOS) {
        if (scenario.id === 'new' && item.contender.store === 'none') continue
        const job = {
          url: `http://127.0.0.1:${item.server.port}`,
          path: scenario.path,
          connections: plan.connections,
          cookies: scenario.withCookie ? item.cookies : undefined,
        }
        if (round === 0 && plan.warmupSeconds > 0) {
          await load.run({ ...job, seconds: plan.warmupSeconds })
        }
        const result = await load.run({ ...job, seconds: plan.seconds })
        if (result.non2xx > 0 || result.errors > 0) {
          log(
            `    ${item.contender.id} ${scenario.id}: ${result.non2xx} non-2xx, ${result.errors} errors`,
          )
        }
        const key = `${item.contender.id}/${scenario.id}`
        const list = runs.get(key) ?? []
        list.push(result)
        runs.set(key, list)
      }
    }
  }
  for (const item of live) {
    for (const scenario of SCENARIOS) {
      const list = runs.get(`${item.contender.id}/${scenario.id}`)
      if (list === undefined) continue
      item.result.cells.set(scenario.id, {
        rps: median(list.map((r) => r.rps)),
        p99: median(list.map((r) => r.p99)),
        runs: list,
      })
    }
    if (item.contender.store === 'memory') {
      const stats = await item.server.stats()
      item.result.after = { rows: stats.sessions ?? 0 }
    }
    await item.server.stop()
    if (item.db !== undefined) {
      try {
        item.result.after = sqliteAfter(item.db)
      } catch (err) {
        log(`  cannot read ${item.db}: ${(err as Error).message}`)
      }
    }
  }
  return results
}
