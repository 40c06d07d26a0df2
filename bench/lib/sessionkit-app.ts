import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import { loadAndSave as expressLoadAndSave } from '../../src/adapters/express.ts'
import { loadAndSave } from '../../src/adapters/node.ts'
import type { Store } from '../../src/index.ts'
import { SessionManager } from '../../src/index.ts'
import { BARE_BODY, COOKIE_NAME, LIFETIME_MS, MESSAGE } from './settings.ts'

/** The seed's session data. */
export type BenchData = {
  message: string
}

/** A SessionManager with the cookie settings every contender shares. */
export function benchManager(store: Store): SessionManager<BenchData> {
  // BENCH_IDLE_MS gives the idle-timeout contender its sliding window (idleRefresh at its default).
  const idle = Number(process.env.BENCH_IDLE_MS ?? 0)
  return new SessionManager<BenchData>({
    store,
    lifetime: LIFETIME_MS,
    idleTimeout: idle,
    cookie: { name: COOKIE_NAME, path: '/', httpOnly: true, sameSite: 'lax', secure: false },
  })
}

/** The seed's node:http app (/put, /get) plus /bare, wrapped in sessionkit's node adapter. */
export function nodeApp(
  sessions: SessionManager<BenchData>,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined {
  return loadAndSave(sessions, (req, res) => {
    if (req.url === '/bare') {
      res.end(BARE_BODY)
      return
    }
    const session = sessions.from(req)
    if (req.url === '/put') {
      session.put('message', MESSAGE)
      res.end()
      return
    }
    if (req.url === '/get') {
      res.end(session.getString('message'))
      return
    }
    res.statusCode = 404
    res.end('not found\n')
  })
}

/** The same app on Express 5 with sessionkit's Express middleware. */
export function expressApp(sessions: SessionManager<BenchData>): express.Express {
  const app = express()
  app.use(expressLoadAndSave(sessions))
  app.get('/bare', (_req, res) => {
    res.end(BARE_BODY)
  })
  app.get('/put', (req, res) => {
    sessions.from(req).put('message', MESSAGE)
    res.end()
  })
  app.get('/get', (req, res) => {
    res.end(sessions.from(req).getString('message'))
  })
  return app
}
