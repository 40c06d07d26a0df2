import { createRequire } from 'node:module'
import express from 'express'
import { BARE_BODY, COOKIE_NAME, EXPRESS_SESSION_COOKIE, MESSAGE, SECRET } from './settings.ts'

const require = createRequire(import.meta.url)

/** The part of express-session's default export this bench calls, typed structurally. */
export interface ExpressSessionModule {
  (options: Record<string, unknown>): express.RequestHandler
  Store: new (...args: unknown[]) => object
  MemoryStore: new () => object
}

/** express-session, loaded with require so no @types package (and its augmentation) is needed. */
export function loadExpressSession(): ExpressSessionModule {
  return require('express-session') as ExpressSessionModule
}

/** Loads a CommonJS peer by name, for the stores that ship without types. */
export function requirePeer<T>(name: string): T {
  return require(name) as T
}

type SessionBag = { session: Record<string, unknown> }

/**
 * The seed's app on Express 5 with express-session: `resave: false, saveUninitialized: false`,
 * the shared cookie settings, and `store` (express-session's MemoryStore when undefined).
 */
export function expressSessionApp(store: object | undefined): express.Express {
  const session = loadExpressSession()
  const app = express()
  app.use(
    session({
      name: COOKIE_NAME,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: EXPRESS_SESSION_COOKIE,
      ...(store === undefined ? {} : { store }),
    }),
  )
  app.get('/bare', (_req, res) => {
    res.end(BARE_BODY)
  })
  app.get('/put', (req, res) => {
    ;(req as unknown as SessionBag).session.message = MESSAGE
    res.end()
  })
  app.get('/get', (req, res) => {
    const message = (req as unknown as SessionBag).session.message
    res.end(typeof message === 'string' ? message : '')
  })
  return app
}
