import { execFile, spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** The database servers the store tests can reach. */
export type Service = 'postgres' | 'redis' | 'redis-cluster'

/** Every service, in the order messages name them. */
export const SERVICES: readonly Service[] = ['postgres', 'redis', 'redis-cluster']

/** The variable that gives each service's URL (the cluster's: its nodes, comma-separated). */
export const VARIABLES: Record<Service, string> = {
  postgres: 'SESSIONKIT_POSTGRES_URL',
  redis: 'SESSIONKIT_REDIS_URL',
  'redis-cluster': 'SESSIONKIT_REDIS_CLUSTER_URL',
}

/** How messages name each service. */
export const LABELS: Record<Service, string> = {
  postgres: 'PostgreSQL',
  redis: 'Redis',
  'redis-cluster': 'Redis Cluster',
}

/**
 * What the global setup hands each test file about one service: the URL to test against, or why
 * there is none (a sentence saying what to install or set).
 */
export type ServiceState = { url: string } | { missing: string }

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by test/global-setup.ts for every service; read through test/helpers/services.ts. */
    sessionkitServices: Record<Service, ServiceState>
  }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => executable(join(dir, command)))
}

/** Why a server cannot be started here: a program to install, or another obstacle. */
export type Obstacle =
  | { program: 'PostgreSQL' | 'redis-server'; apt: 'postgresql' | 'redis-server' }
  | { other: string }

/**
 * Why scripts/services.sh could not start this service's server on this machine, or undefined
 * when it can: it looks for the binaries where services.sh does (Debian keeps PostgreSQL's under
 * /usr/lib/postgresql/<version>/bin, off PATH).
 */
export function cannotStart(service: Service): Obstacle | undefined {
  if (service === 'postgres') {
    const debian = existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql').some((v) =>
          executable(`/usr/lib/postgresql/${v}/bin/pg_ctl`),
        )
      : false
    if (!debian && !onPath('pg_ctl')) return { program: 'PostgreSQL', apt: 'postgresql' }
    // PostgreSQL refuses to run as root; services.sh runs it as `postgres` there.
    if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0)
      return { other: 'PostgreSQL cannot run as root and there is no postgres user to run it' }
    return undefined
  }
  // The cluster is joined by `redis-cli --cluster create`; Debian's redis-server brings redis-cli.
  if (!onPath('redis-server') || !onPath('redis-cli'))
    return { program: 'redis-server', apt: 'redis-server' }
  return undefined
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve(true)),
    )
  })
}

/**
 * A port from which `count` ports (and, with `bus`, the same ports + 10000: a cluster node's bus)
 * are free now. Drawn from 11000–22000 so that every port stays below Linux's ephemeral range
 * (32768 up, where outgoing connections take theirs) and away from services.sh's defaults
 * (54329, 63799, 46380–46385 and their buses), which a developer or CI may have running.
 */
async function freePorts(count: number, bus: boolean, taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 11_000 + Math.floor(Math.random() * 11_000)
    const ports = Array.from({ length: count }, (_, i) => base + i)
    if (bus) ports.push(...ports.map((p) => p + 10_000))
    if (ports.some((p) => taken.has(p))) continue
    const free = await Promise.all(ports.map(portIsFree))
    if (free.every(Boolean)) {
      for (const p of ports) taken.add(p)
      return base
    }
  }
  throw new Error('no free ports for the throwaway servers between 11000 and 32005')
}

/** Servers started by {@link startThrowawayServers}, and how to stop exactly them. */
export interface ThrowawayServers {
  /** The folder that holds their data, pidfiles and logs (removed by `stop`). */
  dir: string
  /** The URL of each service started, as services.sh printed it. */
  urls: Partial<Record<Service, string>>
  /**
   * Stops these servers (services.sh kills by its folder's pidfiles) without blocking, as the test
   * workers are still exiting meanwhile; rejects if one of their processes is left or the folder
   * remains. A second call does nothing.
   */
  stop(): Promise<void>
  /** {@link ThrowawayServers.stop}, blocking: for a process 'exit' listener. */
  stopNow(): void
}

const script = new URL('../../scripts/services.sh', import.meta.url).pathname

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

function services(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { env }, (err, stdout, stderr) =>
      resolve({
        status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1,
        stdout,
        stderr,
      }),
    )
  })
}

/**
 * Starts the given services through scripts/services.sh in a fresh temp folder on free ports of
 * their own, so that they never meet a server someone else started, and resolves once every one
 * accepts connections. On failure it stops what it started and rejects with services.sh's output.
 */
export async function startThrowawayServers(wanted: Service[]): Promise<ThrowawayServers> {
  const taken = new Set<number>()
  // Ports first: a failure to find them leaves no folder behind.
  const ports = {
    SESSIONKIT_PG_PORT: String(await freePorts(1, false, taken)),
    SESSIONKIT_REDIS_PORT: String(await freePorts(1, false, taken)),
    SESSIONKIT_REDIS_CLUSTER_PORT: String(await freePorts(6, true, taken)),
  }
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-services-'))
  const env = { ...process.env, SESSIONKIT_SERVICES_DIR: dir, ...ports }
  let stopped = false
  const check = (run: Run, left: number[]): void => {
    if (run.status !== 0 || left.length > 0 || existsSync(dir)) {
      throw new Error(
        `the throwaway servers in ${dir} did not stop (still running: ${left.join(', ') || 'none'}): ${run.stderr}`,
      )
    }
  }
  const servers: ThrowawayServers = {
    dir,
    urls: {},
    async stop() {
      if (stopped) return
      stopped = true
      const pids = serverPids(dir)
      const run = await services(['stop'], env)
      let left = pids.filter(alive)
      for (let waited = 0; left.length > 0 && waited < 5_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        left = left.filter(alive)
      }
      check(run, left)
    },
    stopNow() {
      if (stopped) return
      stopped = true
      const pids = serverPids(dir)
      const run = spawnSync('bash', [script, 'stop'], { env, encoding: 'utf8' })
      const pause = new Int32Array(new SharedArrayBuffer(4))
      let left = pids.filter(alive)
      for (let waited = 0; left.length > 0 && waited < 5_000; waited += 50) {
        Atomics.wait(pause, 0, 0, 50)
        left = left.filter(alive)
      }
      check(run, left)
    },
  }
  const started = await services(['start', ...wanted], env)
  for (const service of wanted) {
    const url = new RegExp(`^export ${VARIABLES[service]}=(.+)$`, 'm').exec(started.stdout)?.[1]
    if (started.status !== 0 || url === undefined) {
      await servers.stop().catch(() => {})
      throw new Error(`scripts/services.sh start ${wanted.join(' ')} failed: ${started.stderr}`)
    }
    servers.urls[service] = url
  }
  return servers
}

// The processes services.sh started in `dir`: PostgreSQL's postmaster and every redis-server.
function serverPids(dir: string): number[] {
  const files = [join(dir, 'pg/postmaster.pid'), join(dir, 'redis/redis.pid')]
  const cluster = join(dir, 'cluster')
  if (existsSync(cluster)) {
    for (const port of readdirSync(cluster)) files.push(join(cluster, port, 'redis.pid'))
  }
  const pids: number[] = []
  for (const file of files) {
    if (!existsSync(file)) continue
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0])
    if (Number.isInteger(pid) && pid > 0) pids.push(pid)
  }
  return pids
}

// A process that has exited but not yet been reaped (a zombie, on Linux) counts as stopped: the
// servers' parent is init, which reaps in its own time.
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return !existsSync('/proc')
  }
}
