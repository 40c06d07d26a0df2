import express from 'express'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/express.ts'
import type { Session } from '../../src/index.ts'
import { MemoryStore, SessionManager } from '../../src/index.ts'
import { describeAdapter, listen, sendNode } from '../helpers/adapter-suite.ts'

describeAdapter('Express', async ({ managers, routes, tls, trustProxy }) => {
  const app = express()
  if (trustProxy) app.set('trust proxy', true)
  for (const manager of managers) app.use(loadAndSave(manager))
  for (const [path, route] of Object.entries(routes)) {
    app.get(path, async (req, res) => {
      await sendNode(res, await route({ session: (m) => m.from(req) }))
    })
  }
  return listen(app, tls)
})

describe("Express adapter with cookie.secure: 'auto'", () => {
  async function served(trustProxy: boolean, managerTrust: boolean) {
    const sessions = new SessionManager({
      store: new MemoryStore({ cleanupInterval: 0 }),
      cookie: { secure: 'auto' },
      trustProxy: managerTrust,
    })
    const app = express()
    app.set('trust proxy', trustProxy)
    app.use(loadAndSave(sessions))
    app.get('/', (req, res) => {
      sessions.from(req).put('x', 1)
      res.end()
    })
    const server = await listen(app)
    const res = await server.request('/', { headers: { 'X-Forwarded-Proto': 'https' } })
    await server.close()
    return res.headers.getSetCookie()[0] ?? ''
  }

  it("follows Express's trust proxy (req.secure), not the manager's trustProxy", async () => {
    expect(await served(true, false)).toContain('; Secure;')
    expect(await served(false, true)).not.toContain('Secure')
  })
})

describe('Express adapter types', () => {
  it("types manager.from(req) with the manager's data", () => {
    const sessions = new SessionManager<{ userId: number }>()
    const app = express()
    app.use(loadAndSave(sessions))
    app.get('/', (req, res) => {
      expectTypeOf(sessions.from(req).get('userId')).toEqualTypeOf<number | undefined>()
      expectTypeOf(req.session).toEqualTypeOf<Session | undefined>()
      res.end()
    })
    expect(typeof app).toBe('function')
  })
})
