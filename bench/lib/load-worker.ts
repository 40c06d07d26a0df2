// The load generator's process: runs one autocannon job per IPC message, so it can be pinned to
// a core of its own, away from the server under test.
import { createRequire } from 'node:module'
import type { LoadJob, LoadResult } from './load.ts'

interface AutocannonRequest {
  method: 'GET'
  path: string
  headers?: Record<string, string>
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest
}
interface AutocannonResult {
  duration: number
  requests: { total: number }
  latency: { p50: number; p99: number }
  non2xx: number
  errors: number
  timeouts: number
}
type Autocannon = (
  options: {
    url: string
    connections: number
    duration: number
    requests: AutocannonRequest[]
  },
  done: (err: Error | null, result: AutocannonResult) => void,
) => unknown

// autocannon ships no types; this is the slice of its API the worker calls.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

function run(job: LoadJob): Promise<LoadResult> {
  let next = 0
  const cookies = job.cookies
  const requests: AutocannonRequest[] =
    cookies === undefined || cookies.length === 0
      ? [{ method: 'GET', path: job.path }]
      : [
          {
            method: 'GET',
            path: job.path,
            // Each request takes the next cookie, so the server sees every session in turn.
            setupRequest: (req: AutocannonRequest) => {
              const cookie = cookies[next++ % cookies.length] as string
              req.headers = { ...req.headers, cookie }
              return req
            },
          },
        ]
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.seconds,
        requests,
      },
      (err, result) => {
        if (err) {
          reject(err)
          return
        }
        const seconds = result.duration > 0 ? result.duration : job.seconds
        resolve({
          rps: result.requests.total / seconds,
          p50: result.latency.p50,
          p99: result.latency.p99,
          total: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
        })
      },
    )
  })
}

process.on('message', async (job: LoadJob & { id: number }) => {
  try {
    const result = await run(job)
    process.send?.({ id: job.id, result })
  } catch (err) {
    process.send?.({ id: job.id, error: (err as Error).message })
  }
})
process.on('disconnect', () => process.exit(0))
