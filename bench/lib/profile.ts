import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONTENDERS, ServerProcess } from './contenders.ts'
import type { LoadGenerator } from './load.ts'
import type { LoadPlan } from './matrix.ts'
import { createSessions } from './seed-sessions.ts'

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

function table(frames: Frame[], samples: number, count: number, by: 'self' | 'total'): string {
  const pct = (n: number) => `${((100 * n) / samples).toFixed(1)}%`
  const sorted = [...frames].sort((a, b) => b[by] - a[by]).slice(0, count)
  return [
    '| self | total | function | where |',
    '| ---: | ---: | --- | --- |',
    ...sorted.map((f) => `| ${pct(f.self)} | ${pct(f.total)} | ${f.name} | ${f.where} |`),
  ].join('\n')
}

/**
 * Runs sessionkit + SQLite on node:http under `node --cpu-prof` once per scenario ((b) /get,
 * (c) /put with a cookie, (d) /put without) and prints the heaviest frames overall and in src/.
 */
export async function runProfile(
  load: LoadGenerator,
  plan: LoadPlan,
  dir: string,
  log: (line: string) => void,
): Promise<void> {
  const contender = CONTENDERS.find((c) => c.id === 'sk-sqlite-node')
  if (contender === undefined) throw new Error('no sk-sqlite-node contender')
  const seconds = Number(process.env.BENCH_PROFILE_SECONDS ?? 10)
  for (const [name, path, withCookie] of [
    ['get', '/get', true],
    ['put', '/put', true],
    ['new', '/put', false],
  ] as const) {
    const profDir = join(dir, `prof-${name}`)
    const server = await ServerProcess.start(contender, {
      db: join(dir, `prof-${name}.db`),
      core: plan.serverCore,
      execArgv: ['--cpu-prof', '--cpu-prof-dir', profDir],
    })
    const cookies = await createSessions(server.port, plan.sessions)
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
    console.log(`Heaviest frames by self time:\n\n${table(frames, samples, 25, 'self')}\n`)
    console.log(`sessionkit (src/) by self time:\n\n${table(ours, samples, 15, 'self')}\n`)
    console.log(`sessionkit (src/) by total time:\n\n${table(ours, samples, 15, 'total')}\n`)
    log(`profiled ${name}`)
  }
}
