import { request } from 'node:http'
import { MESSAGE } from './settings.ts'

interface Reply {
  status: number
  body: string
  setCookie: string[]
}

function get(port: number, path: string, cookie?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: cookie ? { cookie } : {}, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            setCookie: res.headers['set-cookie'] ?? [],
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/**
 * Creates `count` sessions through the server's own `/put` (no cookie, so each is new) and returns
 * their Cookie header values; checks each Set-Cookie carries the shared attributes.
 */
export async function createSessions(port: number, count: number): Promise<string[]> {
  const cookies: string[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      const reply = await get(port, '/put')
      const line = reply.setCookie[0]
      if (reply.status !== 200 || line === undefined) {
        throw new Error(`/put answered ${reply.status} with no Set-Cookie`)
      }
      if (!/; HttpOnly/i.test(line) || !/SameSite=Lax/i.test(line) || !/Path=\//.test(line)) {
        throw new Error(`/put set an unexpected cookie: ${line}`)
      }
      cookies.push(line.slice(0, line.indexOf(';')))
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return cookies
}

/** Throws unless `/get` with `cookie` answers the message `/put` stored, and `/bare` answers 200. */
export async function checkRoundTrip(port: number, cookie: string): Promise<void> {
  const got = await get(port, '/get', cookie)
  if (got.status !== 200 || got.body !== MESSAGE) {
    throw new Error(`/get answered ${got.status} ${JSON.stringify(got.body)}, not the message`)
  }
  const bare = await get(port, '/bare')
  if (bare.status !== 200) throw new Error(`/bare answered ${bare.status}`)
}
