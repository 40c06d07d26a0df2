// `npm run bench`: sessionkit and the session libraries users would pick instead, each in its own
// process on 127.0.0.1, loaded by autocannon in another process, in one run. Writes
// bench/results.md and bench/results.svg. `--quick` is a smoke run (1 s, 1 repeat, fewer servers);
// `--profile` profiles sessionkit + SQLite on node:http instead; `--only=id,id` picks servers;
// `--tsx` runs the servers from their TypeScript sources under tsx instead of tsc's output.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildServers } from './lib/build.ts'
import { CONTENDERS, serverRuntime, useCompiledServers } from './lib/contenders.ts'
import { canPin } from './lib/cpu.ts'
import { LoadGenerator } from './lib/load.ts'
import { machineInfo } from './lib/machine.ts'
import type { LoadPlan } from './lib/matrix.ts'
import { runMatrix } from './lib/matrix.ts'
import { runProfile } from './lib/profile.ts'
import {
  afterTable,
  ratioTable,
  resultsTable,
  spreadTable,
  targetChecks,
  targetTable,
} from './lib/report.ts'
import { resultsMarkdown } from './lib/results-md.ts'
import { runScale } from './lib/scale.ts'
import { resultsSvg } from './lib/svg.ts'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const noScale = args.includes('--no-scale')
const started = Date.now()
const loadAtStart = loadavg()
const log = (line: string): void => {
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`)
}

const pin = canPin()
const plan: LoadPlan = {
  connections: 50,
  warmupSeconds: quick ? 0 : 1,
  seconds: quick ? 1 : 2,
  repeats: quick ? 1 : 5,
  sessions: 1000,
  serverCore: pin ? 0 : undefined,
}
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-'))
const load = new LoadGenerator(pin ? 1 : undefined)
try {
  if (!args.includes('--tsx')) useCompiledServers(buildServers(join(dir, 'build')))
  log(`servers run as ${serverRuntime()}`)
  if (args.includes('--profile')) {
    await runProfile(load, plan, dir, log)
  } else {
    const contenders = CONTENDERS.filter((c) => (only ? only.includes(c.id) : !quick || c.quick))
    log(
      `${contenders.length} servers × 4 scenarios, ${plan.connections} connections, ` +
        `${plan.seconds} s × ${plan.repeats} (median), warm-up ${plan.warmupSeconds} s, ` +
        (pin ? 'server on core 0, autocannon on core 1' : 'not pinned (no taskset or one core)'),
    )
    const results = await runMatrix(contenders, load, plan, dir, log)
    const scale = noScale ? undefined : await runScale(load, plan, dir, quick, log)
    const checks = targetChecks(results)
    const tables = {
      results: resultsTable(results),
      spread: spreadTable(results),
      vsBare: ratioTable(results, 'bare-node'),
      vsPeer: ratioTable(results, 'es-bs3-wal'),
      targets: targetTable(checks),
      after: afterTable(results),
    }
    console.log(`\n${tables.results}\n\nvs bare node:http\n${tables.vsBare}`)
    console.log(`\nvs express-session + better-sqlite3-session-store (WAL)\n${tables.vsPeer}`)
    console.log(`\n${tables.targets}\n\n${tables.after}`)
    const machine = machineInfo(loadAtStart)
    const markdown = resultsMarkdown({
      plan,
      quick,
      machine,
      runtime: serverRuntime(),
      tables,
      results,
      scale,
      elapsedMs: Date.now() - started,
    })
    if (scale) console.log(`\n${scale.markdown}`)
    const svg = resultsSvg(results, machine.summary)
    if (quick || only) {
      // A partial run must not replace the committed results; its files go to the temp dir.
      const out = join(tmpdir(), 'sessionkit-bench-partial')
      writeFileSync(`${out}.md`, markdown)
      writeFileSync(`${out}.svg`, svg)
      log(`partial run: wrote ${out}.md and .svg; bench/results.* left unchanged`)
    } else {
      writeFileSync(new URL('./results.md', import.meta.url), markdown)
      writeFileSync(new URL('./results.svg', import.meta.url), svg)
      log('wrote bench/results.md and bench/results.svg')
    }
  }
} finally {
  load.close()
  rmSync(dir, { recursive: true, force: true })
}
log('done')
