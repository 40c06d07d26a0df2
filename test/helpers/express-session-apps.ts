import type { AddressInfo } from 'node:net'
import express from 'express'
import session from 'express-session'
import { loadAndSave } from '../../src/adapters/express.ts'
import {
  type ExpressSessionStore,
  expressSessionBridge,
} from '../../src/bridges/express-session.ts'
import { MemoryStore, SessionManager, type Store } from '../../src/index.ts'

/** The secrets the old app signs with: the current one first, the one before it still accepted. */
export const SECRETS = ['current secret', 'the secret before it']

/** An express-session store with the methods the apps here call. */
export type OldStore = session.Store & ExpressSessionStore

/** Serves an Express app on 127.0.0.1 at `port` (0 for any); resolves its URL and a closer. */
export async function listen(app: express.Express, port = 0) {
  const server = app.listen(port, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port: bound } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The app before the switch: express-session on the old store, with the secret list. */
export function oldApp(store: OldStore): express.Express {
  const app = express()
  app.use(session({ store, secret: SECRETS, resave: false, saveUninitialized: false }))
  app.get('/login', (req, res) => {
    const s = req.session as unknown as Record<string, unknown>
    s.userId = 42
    s.cart = ['tea', 'milk']
    res.send('ok')
  })
  return app
}

/** The app after the switch: sessionkit with the bridge in front of the same routes. */
export function newApp(
  store: OldStore,
  onGet?: () => void,
  sessionStore: Store = new MemoryStore({ cleanupInterval: 0 }),
) {
  // The bridge sees the store through this, so a test can count the lookups it makes.
  const counted: ExpressSessionStore = {
    get: (sid, cb) => {
      onGet?.()
      store.get(sid, cb)
    },
    destroy: (sid, cb) => store.destroy(sid, cb),
  }
  const sessions = new SessionManager<{ userId: number; cart: string[] }>({
    store: sessionStore,
    bridge: expressSessionBridge({ store: counted, secret: SECRETS }),
  })
  const app = express()
  app.use(loadAndSave(sessions))
  app.get('/me', (req, res) => {
    const s = sessions.from(req)
    res.json({ userId: s.get('userId') ?? null, cart: s.get('cart') ?? null })
  })
  app.get('/logout', async (req, res) => {
    await sessions.from(req).destroy()
    res.send('bye')
  })
  return { app, sessions }
}
