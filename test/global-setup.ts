import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { hasConnectSqlite3, INSTALL_CONNECT_SQLITE3 } from '../bench/lib/connect-sqlite3.ts'
import {
  cannotStart,
  LABELS,
  type Obstacle,
  SERVICES,
  type Service,
  type ServiceState,
  startThrowawayServers,
  VARIABLES,
} from './helpers/throwaway-servers.ts'

/**
 * Builds dist/ once before the suite: the examples and the package tests load sessionkit by its
 * name, as an app would, and the package has no install-time script that would build it (an
 * install script is one more thing every user's npm asks them to approve).
 *
 * Then finds a server for each store suite: a SESSIONKIT_*_URL variable is used as it is (CI sets
 * them); otherwise, where the server binaries are installed and SESSIONKIT_SERVICES is not `off`,
 * throwaway servers are started in a temp folder of their own on free ports and stopped by the
 * returned teardown; otherwise the suites skip, and one line says what to install or set. Test
 * files read the outcome through test/helpers/services.ts. Likewise one line when connect-sqlite3 (no
 * devDependency) is missing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = fileURLToPath(new URL('..', import.meta.url))
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  })

  const states = {} as Record<Service, ServiceState>
  const toStart: Service[] = []
  const obstacles = new Map<Service, Obstacle>()
  const optedOut = process.env.SESSIONKIT_SERVICES === 'off'
  for (const service of SERVICES) {
    const url = process.env[VARIABLES[service]]
    if (url !== undefined && url !== '') {
      states[service] = { url }
      continue
    }
    const obstacle = optedOut ? undefined : cannotStart(service)
    if (obstacle !== undefined) obstacles.set(service, obstacle)
    else if (!optedOut) toStart.push(service)
    const why = optedOut
      ? 'SESSIONKIT_SERVICES=off'
      : obstacle === undefined
        ? undefined
        : 'program' in obstacle
          ? `${obstacle.program} is not installed (apt-get install ${obstacle.apt})`
          : obstacle.other
    if (why !== undefined)
      states[service] = { missing: `${why} and ${VARIABLES[service]} is not set` }
  }

  let stop = async (): Promise<void> => {}
  if (toStart.length > 0) {
    let servers: Awaited<ReturnType<typeof startThrowawayServers>> | undefined
    try {
      servers = await startThrowawayServers(toStart)
    } catch (err) {
      // A server that will not start (initdb refused, no free port) is one that is missing: its
      // suites skip saying why, and the rest of the run goes on.
      const why = `the throwaway servers did not start (${firstLine(err)})`
      for (const service of toStart) {
        states[service] = { missing: `${why} and ${VARIABLES[service]} is not set` }
      }
    }
    if (servers !== undefined) {
      const started = servers
      // Also on an exit that skips the teardown (an error in another global setup, a second
      // Ctrl-C); an exit handler must not throw, so a server left running is reported.
      const onExit = (): void => {
        try {
          started.stopNow()
        } catch (err) {
          console.error(`sessionkit tests: ${firstLine(err)}`)
        }
      }
      process.once('exit', onExit)
      stop = async () => {
        process.off('exit', onExit)
        await started.stop()
      }
      for (const service of toStart) states[service] = { url: started.urls[service] as string }
      console.log(
        `sessionkit tests: started throwaway ${list(toStart.map((s) => LABELS[s]))} servers in ${started.dir} (${toStart.map((s) => started.urls[s]).join(' ')}); they stop when the run ends`,
      )
    }
  }

  // One line for the whole run; each skipped suite's name repeats its own reason.
  const skipped = SERVICES.filter((s) => 'missing' in states[s])
  if (skipped.length > 0) {
    const programs = new Set<string>()
    const packages = new Set<string>()
    const others = new Set<string>()
    for (const obstacle of obstacles.values()) {
      if ('program' in obstacle) {
        programs.add(obstacle.program)
        packages.add(obstacle.apt)
      } else others.add(obstacle.other)
    }
    const why = optedOut
      ? ['SESSIONKIT_SERVICES=off (unset it to start throwaway servers)']
      : [
          ...(programs.size === 0
            ? []
            : [
                `${list([...programs])} ${programs.size === 1 ? 'is' : 'are'} not installed (apt-get install ${[...packages].join(' ')} runs them on throwaway servers)`,
              ]),
          ...others,
        ]
    console.warn(
      `sessionkit tests: skipping the ${list(skipped.map((s) => LABELS[s]))} suites: ${list(why)}; or set ${list(skipped.map((s) => VARIABLES[s]))} to servers of your own`,
    )
  }

  if (!hasConnectSqlite3()) {
    console.warn(
      `sessionkit tests: skipping the tests that drive connect-sqlite3 (a benchmark contender, the express-session bridge from it): \`${INSTALL_CONNECT_SQLITE3}\` runs them`,
    )
  }

  project.provide('sessionkitServices', states)
  return stop
}

function list(words: string[]): string {
  return words.length < 2
    ? words.join('')
    : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.split('\n').find((line) => line.trim() !== '') ?? text
}
