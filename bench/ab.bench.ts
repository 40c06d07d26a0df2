// `npm run bench:ab -- [--base <git ref>] [--rounds N] [--quick]`: is the working tree slower
// than a base commit? Builds the base (default: the merge-base with main) in a temporary git
// worktree and the working tree into a temp folder, each with tsc as the package is built, then
// measures both side by side in one run, alternating old and new round by round (ABBA):
// - HTTP, as `npm run bench` measures sessionkit: the seed app on node:http with SQLiteStore,
//   one process per build, loaded by autocannon from another process and core, on /get and /put
//   with a valid cookie and on new sessions, with bare node:http as a peer;
// - the store, as `npm run bench:stores` does: each build's SQLiteStore and SessionManager in
//   this process: find, commit of a changed session, commit of a new one.
// Prints new/old per row with its range over rounds; it gates nothing. `--quick` is a smoke run.
// It runs as `node --import tsx`, not under the tsx CLI: that one kills a child whose event loop
// is busy (a build, the cleanup) 60 ms after Ctrl-C, which would leave the worktree behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBase, buildWorkingTree, resolveBase } from './lib/ab-builds.ts'
import type { AbHttpPlan } from './lib/ab-http.ts'
import { AB_ROUTES, runHttpAb } from './lib/ab-http.ts'
import { abTable, summarise, wideRows } from './lib/ab-report.ts'
import type { AbStorePlan } from './lib/ab-stores.ts'
import { AB_STORE_OPS, runStoresAb } from './lib/ab-stores.ts'
import { Cleanup } from './lib/cleanup.ts'
import { canPin } from './lib/cpu.ts'
import { LoadGenerator } from './lib/load.ts'

const USAGE = 'usage: npm run bench:ab -- [--base <git ref>] [--rounds N] [--quick]'

function option(name: string): string | undefined {
  const args = process.argv.slice(2)
  const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`))
  if (at < 0) return undefined
  const arg = args[at] as string
  const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[at + 1]
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`)
  return value
}

const known = ['--base', '--rounds', '--quick']
const unknown = process.argv
  .slice(2)
  .filter((a) => a.startsWith('--') && !known.includes(a.split('=')[0] as string))
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(', ')}\n${USAGE}`)
  process.exit(2)
}
const quick = process.argv.includes('--quick')
const rounds = Number(option('--rounds') ?? (quick ? 1 : 6))
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a whole number ≥ 1\n${USAGE}`)
  process.exit(2)
}

const started = Date.now()
const loadAtStart = loadavg()
const log = (line: string): void => {
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`)
}
const pin = canPin()
const http: AbHttpPlan = {
  rounds,
  seconds: quick ? 1 : 2,
  warmupSeconds: quick ? 0 : 1,
  connections: 50,
  sessions: 1000,
  serverCore: pin ? 0 : undefined,
}
const stores: AbStorePlan = { rounds, ops: quick ? 2_000 : 10_000, warmup: !quick }

const cleanup = new Cleanup()
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-ab-'))
cleanup.add(() => rmSync(dir, { recursive: true, force: true }))
let load: LoadGenerator | undefined
try {
  const base = resolveBase(option('--base'))
  log(`building the base ${base.label} in a temporary git worktree`)
  const old = buildBase(base, dir, cleanup, log)
  log('building the working tree')
  const builds = { old, new: buildWorkingTree(dir, log) }

  const routes = AB_ROUTES.length
  log(
    `HTTP: 3 servers × ${routes} routes × ${rounds} rounds × ${http.seconds} s, ` +
      `${http.connections} connections, ` +
      (pin ? 'servers on core 0, autocannon on core 1' : 'not pinned (no taskset or one core)'),
  )
  load = new LoadGenerator(pin ? 1 : undefined)
  const httpRows = (await runHttpAb(builds, load, http, dir, log)).map(summarise)
  load.close()
  load = undefined

  log(`store: ${AB_STORE_OPS.length} ops × ${rounds} rounds × ${stores.ops.toLocaleString()} ops`)
  const storeRows = (await runStoresAb(builds, stores, dir, log)).map(summarise)

  const names = { old: builds.old.label, new: builds.new.label }
  const command = ['npm run bench:ab', ...process.argv.slice(2)].join(' ')
  const loads = (l: number[]): string => l.map((n) => n.toFixed(2)).join(' ')
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const report = [
    `## Old and new build side by side (\`${command}\`)`,
    '',
    `Node ${process.version}; load average at the start ${loads(loadAtStart)}, ` +
      `at the end ${loads(loadavg())}; ${seconds} s in all.`,
    'new/old is the median of the per-round ratios (old and new measured back to back, in ABBA',
    'order); the range is their lowest and highest.',
    '',
    `### HTTP, req/s (median of ${rounds} × ${http.seconds} s, ${http.connections} connections, ` +
      `${pin ? 'server pinned to one core' : 'not pinned'})`,
    '',
    abTable(httpRows, { ...names, unit: 'req/s', peer: 'bare node:http' }),
    '',
    `### SQLiteStore through SessionManager, in process, ops/s (median of ${rounds} × ${stores.ops.toLocaleString()} ops)`,
    '',
    abTable(storeRows, { ...names, unit: 'ops/s' }),
  ].join('\n')
  console.log(`\n${report}\n`)
  const wide = wideRows([...httpRows, ...storeRows], 0.05)
  if (wide.length > 0) {
    console.log(
      `Range over 5 points on ${wide.map((r) => r.label).join('; ')}: ` +
        'the machine was noisy or the rounds too few; more --rounds on a quiet machine narrow it.',
    )
  }
  const out = join(tmpdir(), 'sessionkit-bench-ab.md')
  writeFileSync(out, `${report}\n`)
  log(`wrote ${out}`)
} catch (err) {
  console.error(`bench:ab failed: ${(err as Error).message}`)
  process.exitCode = 1
} finally {
  load?.close()
  cleanup.dispose()
}
log('done')
