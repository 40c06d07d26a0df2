import http from 'node:http'
import { type AddressInfo, createServer } from 'node:net'

/** A server listening on 127.0.0.1 on a free port. */
export interface TestServer {
  url: string
  close(): Promise<void>
}

/** Starts `listener` on 127.0.0.1:0. */
export async function serve(listener: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** One response, with every Set-Cookie line kept apart. */
export interface TestResponse {
  status: number
  headers: Headers
  body: string
  setCookie: string[]
}

/** The value between the first '=' and the first ';', as SCS's tests extract a token. */
export function tokenOf(setCookie: string | undefined): string {
  if (setCookie === undefined) return ''
  const start = setCookie.indexOf('=') + 1
  const end = setCookie.indexOf(';')
  return setCookie.slice(start, end === -1 ? undefined : end)
}

/** A browser-like client with a one-origin cookie jar (name → value; Max-Age=0 deletes). */
export class Client {
  readonly jar = new Map<string, string>()
  constructor(readonly base: string) {}

  async get(path: string, init: RequestInit = {}): Promise<TestResponse> {
    const headers = new Headers(init.headers)
    if (this.jar.size > 0 && !headers.has('cookie')) {
      headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '))
    }
    const res = await fetch(this.base + path, { ...init, headers, redirect: 'manual' })
    const setCookie = res.headers.getSetCookie()
    for (const line of setCookie) {
      const name = line.slice(0, line.indexOf('='))
      if (/Max-Age=0/.test(line) || tokenOf(line) === '') this.jar.delete(name)
      else this.jar.set(name, tokenOf(line))
    }
    return { status: res.status, headers: res.headers, body: await res.text(), setCookie }
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for a child process or a proxy to take. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
