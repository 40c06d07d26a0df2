import { it } from 'vitest'

/** The database servers the store tests can reach, and how to name them in messages. */
export type Service = 'postgres' | 'redis' | 'redis-cluster'

const variables: Record<Service, string> = {
  postgres: 'SESSIONKIT_POSTGRES_URL',
  redis: 'SESSIONKIT_REDIS_URL',
  'redis-cluster': 'SESSIONKIT_REDIS_CLUSTER_URL',
}

/**
 * The URL of a real server for the store tests, from SESSIONKIT_POSTGRES_URL,
 * SESSIONKIT_REDIS_URL or SESSIONKIT_REDIS_CLUSTER_URL (the cluster's nodes, comma-separated),
 * or undefined when unset. Under CI=true a missing server is a failure (a
 * test that throws is registered); otherwise the caller skips its suites with
 * `describe.skipIf`, named by {@link named}, and a warning says what to start.
 */
export function serviceUrl(service: Service): string | undefined {
  const variable = variables[service]
  const url = process.env[variable]
  if (url !== undefined && url !== '') return url
  const message = missingMessage(service)
  if (process.env.CI === 'true') {
    it(`has a ${service} server to test against`, () => {
      throw new Error(message)
    })
  } else console.warn(`skipping the ${service} tests: ${message}`)
  return undefined
}

function missingMessage(service: Service): string {
  return `${variables[service]} is not set: run \`eval "$(npm run -s services)"\` (scripts/services.sh starts throwaway PostgreSQL, Redis and Redis Cluster servers) to run them`
}

/**
 * A suite name that says why its tests are skipped when the server is missing, for
 * `describe.skipIf(url === undefined)(named(…), …)`: every test is still defined, so the run's
 * summary counts each one it did not run.
 */
export function named(title: string, service: Service, url: string | undefined): string {
  return url === undefined ? `${title} (skipped: ${missingMessage(service)})` : title
}
