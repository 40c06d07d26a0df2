import { join } from 'node:path'
import type { Build } from './ab-builds.ts'
import type { AbSamples } from './ab-report.ts'
import type { Contender } from './contenders.ts'
import { CONTENDERS, ServerProcess } from './contenders.ts'
import type { LoadGenerator } from './load.ts'
import { checkRoundTrip, createSessions } from './seed-sessions.ts'

/** How hard, how long and how often to load each server. */
export interface AbHttpPlan {
  rounds: number
  seconds: number
  /** Load before a server's first measured run of each route, not counted. */
  warmupSeconds: number
  connections: number
  /** Sessions created through each build's /put before the rounds, then rotated by cookie. */
  sessions: number
  serverCore: number | undefined
}

/** The three requests issue 24 compares: a read, a changed session, a new session. */
export const AB_ROUTES = [
  { id: 'get', label: '/get, valid cookie', path: '/get', withCookie: true },
  { id: 'put', label: '/put, valid cookie', path: '/put', withCookie: true },
  { id: 'new', label: 'new session (/put, no cookie)', path: '/put', withCookie: false },
] as const

const BARE = CONTENDERS.find((c) => c.id === 'bare-node') as Contender

function contender(build: Build): Contender {
  return {
    id: build.id,
    label: `${build.id} build`,
    // ServerProcess finds files beside bench/servers; this one serves any build, so it lives in lib.
    file: join('..', 'lib', 'ab-server.ts'),
    store: 'sqlite',
    framework: 'node:http',
    env: { BENCH_BUILD: build.root },
    quick: true,
  }
}

interface Side {
  id: Build['id'] | 'peer'
  server: ServerProcess
  cookies: string[]
}

async function startSide(
  id: Side['id'],
  entry: Contender,
  plan: AbHttpPlan,
  db: string | undefined,
): Promise<Side> {
  const server = await ServerProcess.start(entry, { db, core: plan.serverCore })
  if (id === 'peer') return { id, server, cookies: [] }
  try {
    const cookies = await createSessions(server.port, plan.sessions)
    await checkRoundTrip(server.port, cookies[0] as string)
    return { id, server, cookies }
  } catch (err) {
    const line = server.errorLine()
    await server.stop()
    throw new Error(`${entry.label}: ${(err as Error).message}${line ? `; server: ${line}` : ''}`)
  }
}

/**
 * Serves the seed app from each build (and bare node:http as a peer), each in its own process on
 * `plan.serverCore`, and loads every route in rounds: old then new in even rounds, new then old in
 * odd ones (ABBA), the peer last; returns one row of req/s per route.
 */
export async function runHttpAb(
  builds: { old: Build; new: Build },
  load: LoadGenerator,
  plan: AbHttpPlan,
  dir: string,
  log: (line: string) => void,
): Promise<AbSamples[]> {
  const sides: Side[] = []
  try {
    for (const build of [builds.old, builds.new]) {
      sides.push(
        await startSide(build.id, contender(build), plan, join(dir, `${build.id}-http.db`)),
      )
      log(`  started the ${build.id} build's server, ${plan.sessions} sessions created`)
    }
    sides.push(await startSide('peer', BARE, plan, undefined))
    const [old, neu, peer] = sides as [Side, Side, Side]
    const rows = AB_ROUTES.map((route) => ({ route, samples: sample(route.label) }))
    for (let round = 0; round < plan.rounds; round++) {
      log(`  round ${round + 1}/${plan.rounds} (${round % 2 === 0 ? 'old, new' : 'new, old'})`)
      const order = round % 2 === 0 ? [old, neu, peer] : [neu, old, peer]
      for (const { route, samples } of rows) {
        for (const side of order) {
          const job = {
            url: `http://127.0.0.1:${side.server.port}`,
            path: route.path,
            connections: plan.connections,
            // The peer ignores cookies; it gets the old build's so request sizes match.
            cookies: route.withCookie ? (side === peer ? old : side).cookies : undefined,
          }
          if (round === 0 && plan.warmupSeconds > 0) {
            await load.run({ ...job, seconds: plan.warmupSeconds })
          }
          const result = await load.run({ ...job, seconds: plan.seconds })
          if (result.non2xx > 0 || result.errors > 0) {
            const why = side.server.errorLine()
            log(
              `    ${side.id} ${route.id}: ${result.non2xx} non-2xx, ${result.errors} errors` +
                (why ? `; server: ${why}` : ''),
            )
          }
          samples[side.id].push(result.rps)
        }
      }
    }
    return rows.map(({ samples }) => samples)
  } finally {
    await Promise.all(sides.map((s) => s.server.stop()))
  }
}

function sample(label: string): AbSamples & { peer: number[] } {
  return { label, old: [], new: [], peer: [] }
}
