import { it } from 'vitest'

/** The database servers the store tests can reach, and how to name them in messages. */
export type Service = 'postgres' | 'redis'

const variables: Record<Service, string> = {
  postgres: 'SESSIONKIT_POSTGRES_URL',
  redis: 'SESSIONKIT_REDIS_URL',
}

/**
 * The URL of a real server for the store tests, from SESSIONKIT_POSTGRES_URL or
 * SESSIONKIT_REDIS_URL, or undefined when unset. Under CI=true a missing server is a failure (a
 * test that throws is registered); otherwise the caller skips and a message says what to start.
 */
export function serviceUrl(service: Service): string | undefined {
  const variable = variables[service]
  const url = process.env[variable]
  if (url !== undefined && url !== '') return url
  const message = `${variable} is not set: run \`eval "$(npm run -s services)"\` (scripts/services.sh starts throwaway PostgreSQL and Redis servers) to run the ${service} store tests`
  if (process.env.CI === 'true') {
    it(`has a ${service} server to test against`, () => {
      throw new Error(message)
    })
  } else {
    it.skip(`${service} store tests: ${message}`, () => {})
    console.warn(`skipping ${service} store tests: ${message}`)
  }
  return undefined
}
