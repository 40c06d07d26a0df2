import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { IncomingMessage, ServerResponse } from 'node:http'
import { SourceMap } from 'node:module'
import { Socket } from 'node:net'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import express from 'express'
import { CONTENDERS, ServerProcess } from './contenders.ts'
import type { LoadGenerator } from './load.ts'
import type { LoadPlan } from './matrix.ts'
import { createSessions } from './seed-sessions.ts'
import { percentile } from './stats.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount: number
  children?: number[]
}

interface Frame {
  name: string
  where: string
  self: number
  total: number
}

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const maps = new Map<string, SourceMap | undefined>()

function sourceMap(file: string): SourceMap | undefined {
  if (!maps.has(file)) {
    const mapFile = `${file}.map`
    maps.set(
      file,
      existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined,
    )
  }
  return maps.get(file)
}

// Compiled frames are reported at their TypeScript line, through tsc's source maps.
function place(url: string, line: number, column: number): string {
  if (url === '') return '(native)'
  if (url.startsWith('file://') && !url.includes('/node_modules/')) {
    const file = fileURLToPath(url)
    const entry = sourceMap(file)?.findEntry(line, column)
    if (entry !== undefined && 'originalSource' in entry) {
      const source = entry.originalSource.startsWith('file://')
        ? fileURLToPath(entry.originalSource)
        : join(file, '..', entry.originalSource)
      return `${relative(REPO, source)}:${entry.originalLine + 1}`
    }
    return `${relative(REPO, file)}:${line + 1}`
  }
  return `${url.replace(/^.*node_modules\//, 'node_modules/')}:${line + 1}`
}

/**
 * Self and total sample counts per function of a V8 .cpuprofile, heaviest first; recursion is
 * counted once per stack for totals.
 */
export function summarize(file: string): { frames: Frame[]; samples: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const frames = new Map<string, Frame>()
  let samples = 0
  const keyOf = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'}\t${place(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber)}`
  // Walk every root-to-leaf path once so a frame's total counts each sample once.
  const walk = (node: ProfileNode, onStack: Set<string>): number => {
    let sum = node.hitCount
    const key = keyOf(node)
    const fresh = !onStack.has(key)
    if (fresh) onStack.add(key)
    for (const child of node.children ?? []) {
      const c = byId.get(child)
      if (c !== undefined) sum += walk(c, onStack)
    }
    if (fresh) onStack.delete(key)
    const [name, where] = key.split('\t') as [string, string]
    const frame = frames.get(key) ?? { name, where, self: 0, total: 0 }
    frame.self += node.hitCount
    if (fresh) frame.total += sum
    frames.set(key, frame)
    samples += node.hitCount
    return sum
  }
  const root = profile.nodes[0]
  if (root !== undefined) walk(root, new Set())
  return { frames: [...frames.values()].sort((a, b) => b.self - a.self), samples }
}

// Percentages are of the samples where the server was busy: idle time depends on how fast the
// load generator is, not on the server.
function table(frames: Frame[], samples: number, count: number, by: 'self' | 'total'): string {
  const pct = (n: number) => `${((100 * n) / samples).toFixed(1)}%`
  frames = frames.filter((f) => f.name !== '(idle)')
  const sorted = [...frames].sort((a, b) => b[by] - a[by]).slice(0, count)
  return [
    '| self | total | function | where |',
    '| ---: | ---: | --- | --- |',
    ...sorted.map((f) => `| ${pct(f.self)} | ${pct(f.total)} | ${f.name} | ${f.where} |`),
  ].join('\n')
}

/**
 * Runs sessionkit + SQLite on node:http (or BENCH_PROFILE_SERVER) under `node --cpu-prof` once
 * per scenario (BENCH_PROFILE_SCENARIOS, default `get,put,new`) and prints the heaviest frames
 * overall and in src/.
 */
export async function runProfile(
  load: LoadGenerator,
  plan: LoadPlan,
  dir: string,
  log: (line: string) => void,
): Promise<void> {
  const id = process.env.BENCH_PROFILE_SERVER ?? 'sk-sqlite-node'
  const contender = CONTENDERS.find((c) => c.id === id)
  if (contender === undefined) throw new Error(`no contender ${id}`)
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 10)
  const wanted = (process.env.BENCH_PROFILE_SCENARIOS ?? 'get,put,new').split(',')
  const scenarios = [
    ['bare', '/bare', false],
    ['get', '/get', true],
    ['put', '/put', true],
    ['new', '/put', false],
  ] as const
  for (const [name, path, withCookie] of scenarios.filter(([n]) => wanted.includes(n))) {
    const profDir = join(dir, `prof-${name}`)
    const server = await ServerProcess.start(contender, {
      db: join(dir, `prof-${name}.db`),
      core: plan.serverCore,
      execArgv: ['--cpu-prof', '--cpu-prof-dir', profDir],
    })
    const cookies =
      contender.store === 'none'
        ? Array.from(
            { length: plan.sessions },
            () => `session=${randomBytes(32).toString('base64url')}`,
          )
        : await createSessions(server.port, plan.sessions)
    const job = {
      url: `http://127.0.0.1:${server.port}`,
      path,
      connections: plan.connections,
      cookies: withCookie ? cookies : undefined,
    }
    await load.run({ ...job, seconds: 2 })
    const result = await load.run({ ...job, seconds })
    await server.stop()
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
    if (file === undefined) throw new Error(`no profile written in ${profDir}`)
    const { frames, samples } = summarize(join(profDir, file))
    const ours = frames.filter((f) => f.where.startsWith('src/'))
    const ourSelf = ours.reduce((s, f) => s + f.self, 0)
    const idle = frames.filter((f) => f.name === '(idle)').reduce((s, f) => s + f.self, 0)
    console.log(
      `\n### ${path} ${withCookie ? 'with' : 'without'} a cookie: ${Math.round(result.rps)} req/s under profiling, ` +
        `${samples} samples, idle ${((100 * idle) / samples).toFixed(1)}%, self time in src/ ${((100 * ourSelf) / samples).toFixed(1)}%\n`,
    )
    const busy = samples - idle
    console.log(
      `Heaviest frames by self time (% of busy samples):\n\n${table(frames, busy, 25, 'self')}\n`,
    )
    console.log(`sessionkit (src/) by self time:\n\n${table(ours, busy, 15, 'self')}\n`)
    console.log(`sessionkit (src/) by total time:\n\n${table(ours, busy, 15, 'total')}\n`)
    log(`profiled ${name}`)
  }
  if (id === 'sk-sqlite-node') await insertCosts(dir)
  propertyStoreCosts()
}

/**
 * What one property store on a response costs, on node:http's own ServerResponse and on one whose
 * prototype Express has swapped (Express 5 does `Object.setPrototypeOf(res, app.response)` on
 * every request), so adapter costs on Express can be read in store counts.
 */
function propertyStoreCosts(): void {
  const app = express()
  const key = Symbol('bench')
  const states = new WeakMap<object, object>()
  const noop = (): void => {}
  const variants: Array<[string, (res: Record<string | symbol, unknown>) => void]> = [
    ['nothing', () => {}],
    [
      '1 symbol property',
      (res) => {
        res[key] = {}
      },
    ],
    [
      '1 WeakMap.set instead',
      (res) => {
        states.set(res, {})
      },
    ],
    [
      'overwrite statusCode',
      (res) => {
        res.statusCode = 201
      },
    ],
    [
      '5 stores (hookResponse today)',
      (res) => {
        res[key] = {}
        res.writeHead = noop
        res.write = noop
        res.end = noop
        res.flushHeaders = noop
      },
    ],
  ]
  const rounds = 5
  const count = 50_000
  console.log(
    '\n### Cost of property stores on a response object, in process (best of 5 × 50,000)\n',
  )
  console.log('| variant | node:http response | Express response |')
  console.log('| --- | ---: | ---: |')
  const best = new Map<string, [number, number]>()
  for (let r = 0; r < rounds; r++) {
    for (const express5 of [false, true]) {
      for (const [name, fn] of variants) {
        const t0 = performance.now()
        for (let i = 0; i < count; i++) {
          const req = new IncomingMessage(new Socket())
          const res = new ServerResponse(req)
          if (express5) {
            Object.setPrototypeOf(req, app.request)
            Object.setPrototypeOf(res, app.response)
          }
          fn(res as unknown as Record<string | symbol, unknown>)
        }
        const ns = ((performance.now() - t0) * 1e6) / count
        const pair = best.get(name) ?? [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]
        pair[express5 ? 1 : 0] = Math.min(pair[express5 ? 1 : 0], ns)
        best.set(name, pair)
      }
    }
  }
  const [baseNode, baseExpress] = best.get('nothing') ?? [0, 0]
  for (const [name, [node, ex]] of best) {
    if (name === 'nothing') {
      console.log(
        `| create req + res (baseline) | ${node.toFixed(0)} ns | ${ex.toFixed(0)} ns (with setPrototypeOf) |`,
      )
    } else {
      console.log(
        `| ${name} | +${(node - baseNode).toFixed(0)} ns | +${(ex - baseExpress).toFixed(0)} ns |`,
      )
    }
  }
}

/**
 * The cost of one new session's INSERT in process, one transaction per row (what every request
 * pays now) against several rows per transaction (what grouping the commits of one event-loop
 * turn would pay), on a fresh WAL file as openSQLiteStore sets it up.
 */
async function insertCosts(dir: string): Promise<void> {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  const mod = (await import(
    new URL(`../../src/stores/sqlite/index${ext}`, import.meta.url).href
  )) as {
    openSQLiteStore: (path: string) => { close(): void }
  }
  const sql = (await import(
    new URL(`../../src/stores/sqlite/sql${ext}`, import.meta.url).href
  )) as {
    statementsSQL: (table: string) => { insert: string }
    goTimeString: (d: Date) => string
  }
  const rows = 20_000
  const data = Buffer.from(`{"d":${Date.now() + 864e5},"v":{"message":"Hello from a session!"}}`)
  const expiry = sql.goTimeString(new Date(Date.now() + 864e5))
  console.log('\n### INSERT of a new session, in process, 20,000 rows per line\n')
  console.log('| rows per transaction | mean per row | p50 per txn | p99 per txn | worst txn |')
  console.log('| ---: | ---: | ---: | ---: | ---: |')
  for (const batch of [1, 10, 50]) {
    const path = join(dir, `insert-${batch}.db`)
    // The store sets up the file as in production (WAL, no auto-checkpoint, its checkpoint
    // thread running); the rows go through a second connection configured the same way.
    const store = mod.openSQLiteStore(path)
    const db = new Database(path)
    db.pragma('synchronous = NORMAL')
    db.pragma('wal_autocheckpoint = 0')
    const insert = db.prepare(sql.statementsSQL('sessions').insert)
    const group = db.transaction((keys: string[]) => {
      for (const key of keys) insert.run(key, data, expiry)
    })
    const keys = Array.from({ length: rows }, () => randomBytes(32).toString('base64url'))
    const times: number[] = []
    const t0 = performance.now()
    for (let i = 0; i < rows; i += batch) {
      const t = performance.now()
      group(keys.slice(i, i + batch))
      times.push((performance.now() - t) * 1000)
    }
    const mean = ((performance.now() - t0) * 1000) / rows
    db.close()
    store.close()
    const f = (us: number) => `${us.toFixed(0)} µs`
    console.log(
      `| ${batch} | ${f(mean)} | ${f(percentile(times, 50))} | ${f(percentile(times, 99))} | ${f(Math.max(...times))} |`,
    )
  }
}
