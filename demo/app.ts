import http from 'node:http'
import { loadAndSave } from '../src/adapters/node.ts'
import { SessionManager } from '../src/index.ts'
import type { DemoData, DemoSessions } from './routes.ts'
import { pageRoutes } from './routes.ts'
import type { DemoStore } from './store.ts'
import { openDemoStore } from './store.ts'

/** How long close() lets running requests finish before cutting their connections. */
export const CLOSE_GRACE_MS = 3_000

/** Options of {@link createDemoServer}. */
export interface DemoOptions {
  /** The SQLite file sessions live in; created if missing. */
  dbPath: string
  /**
   * The session managers' clock in ms since the epoch, for deadlines and cookie expiry; the SQLite
   * store still judges liveness by its own clock. @default Date.now
   */
  clock?: () => number
}

/** A demo server, not yet listening, with what it needs to shut down. */
export interface DemoServer {
  server: http.Server
  /** The page's manager: `cookie.persist: false`, so remember me decides the cookie's lifetime. */
  sessions: DemoSessions
  store: DemoStore
  /**
   * Stops accepting connections, drops idle keep-alive ones, lets running requests finish for up
   * to {@link CLOSE_GRACE_MS}, then closes the store; idempotent.
   */
  close(): Promise<void>
}

/**
 * Builds the demo app on a session store at `dbPath`: the seed's `/put` and `/get`, and a page at
 * `/` with sign-in, remember me, a visit counter for signed-in users, a flash message, the
 * user's sessions and sign-out. An anonymous page view stores nothing and sets no cookie.
 *
 * @example
 * const demo = createDemoServer({ dbPath: 'sessions.db' })
 * demo.server.listen(4000, '127.0.0.1')
 */
export function createDemoServer(options: DemoOptions): DemoServer {
  const store = openDemoStore(options.dbPath)
  const clock = options.clock === undefined ? {} : { clock: options.clock }
  // The page's cookie lasts as long as the browser unless the user ticks "remember me".
  // Sessions are filed under the signed-in name, with the browser they signed in from, for the
  // "Your sessions" card.
  const sessions = new SessionManager<DemoData>({
    store,
    cookie: { persist: false },
    owner: 'user',
    deviceInfo: true,
    ...clock,
  })
  // One manager for every route, the seed's /put and /get included: one cookie, one set of rules.
  const server = http.createServer(loadAndSave(sessions, pageRoutes(sessions)))
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      // A request still running after the grace period is cut off so shutdown always ends.
      const cutoff = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref()
      server.close(() => {
        clearTimeout(cutoff)
        resolve()
      })
      server.closeIdleConnections()
    }).then(() => store.close())
    return closing
  }
  return { server, sessions, store, close }
}
