import { getRequestListener } from '@hono/node-server'
import type { TestApp, TlsPair } from './adapter-suite.ts'
import { listen, requester } from './adapter-suite.ts'

/** A Fetch handler, as Bun.serve, Deno.serve and @hono/node-server take it. */
export type FetchHandler = (request: Request) => Response | Promise<Response>

interface BunServer {
  port: number
  stop(closeActiveConnections?: boolean): void
}
interface BunGlobal {
  serve(options: {
    port: number
    hostname: string
    development: boolean
    tls?: TlsPair
    fetch: FetchHandler
    error(error: Error): Response
  }): BunServer
}
interface DenoServer {
  addr: { port: number }
  shutdown(): Promise<void>
}
interface DenoGlobal {
  serve(
    options: {
      port: number
      hostname: string
      cert?: string
      key?: string
      onListen(): void
      onError(error: unknown): Response
    },
    handler: FetchHandler,
  ): DenoServer
}

const { Bun, Deno } = globalThis as { Bun?: BunGlobal; Deno?: DenoGlobal }

/** The server a Fetch handler is served with on this runtime: `Bun.serve`, `Deno.serve` or node:http. */
export const FETCH_SERVER =
  Bun !== undefined ? 'Bun.serve' : Deno !== undefined ? 'Deno.serve' : '@hono/node-server'

// The runtime answers a handler that throws; a bare 500, as @hono/node-server gives, so the
// suite sees the same thing on every runtime (Bun's development page, Deno's logged stack: off).
const failed = (): Response => new Response('Internal Server Error', { status: 500 })

/** Serves `handler` on 127.0.0.1 at a free port with the runtime's own HTTP server (HTTPS with `tls`). */
export async function serveFetch(handler: FetchHandler, tls?: TlsPair): Promise<TestApp> {
  let port: number
  let close: () => Promise<void>
  if (Bun !== undefined) {
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      development: false,
      ...(tls === undefined ? {} : { tls }),
      fetch: handler,
      error: failed,
    })
    port = server.port
    close = async () => server.stop(true)
  } else if (Deno !== undefined) {
    const server = Deno.serve(
      { port: 0, hostname: '127.0.0.1', ...tls, onListen() {}, onError: failed },
      handler,
    )
    port = server.addr.port
    close = () => server.shutdown()
  } else {
    return listen(getRequestListener(handler), tls)
  }
  return { request: requester(port, tls), close }
}
