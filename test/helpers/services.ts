import { inject, it } from 'vitest'
import { type Service, type ServiceState, VARIABLES } from './throwaway-servers.ts'

export type { Service } from './throwaway-servers.ts'

// What test/global-setup.ts found for the service: a SESSIONKIT_*_URL variable, the throwaway
// server it started, or why there is neither. Without that setup (another config), the variable.
function stateOf(service: Service): ServiceState {
  const provided = inject('sessionkitServices') as Record<Service, ServiceState> | undefined
  if (provided !== undefined) return provided[service]
  const url = process.env[VARIABLES[service]]
  return url !== undefined && url !== '' ? { url } : { missing: `${VARIABLES[service]} is not set` }
}

/**
 * The URL of a real server for the store tests: the one SESSIONKIT_POSTGRES_URL,
 * SESSIONKIT_REDIS_URL or SESSIONKIT_REDIS_CLUSTER_URL names (the cluster's nodes,
 * comma-separated), else the throwaway server test/global-setup.ts started, else undefined.
 * Under CI=true a missing server is a failure (a test that throws is registered); otherwise the
 * caller skips its suites with `describe.skipIf`, named by {@link named} (the global setup has
 * already said once what to install or set). Collection must not use the URL: a skipped
 * describe's body still runs.
 */
export function serviceUrl(service: Service): string | undefined {
  const state = stateOf(service)
  if ('url' in state) return state.url
  if (process.env.CI === 'true') {
    it(`has a ${service} server to test against`, () => {
      throw new Error(state.missing)
    })
  }
  return undefined
}

/**
 * A suite name that says why its tests are skipped when the server is missing, for
 * `describe.skipIf(url === undefined)(named(…), …)`: every test is still defined, so the run's
 * summary counts each one it did not run.
 */
export function named(title: string, service: Service, url: string | undefined): string {
  if (url !== undefined) return title
  const state = stateOf(service)
  return `${title} (skipped: ${'missing' in state ? state.missing : 'no server'})`
}
