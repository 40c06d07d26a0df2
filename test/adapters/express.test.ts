import express from 'express'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/express.ts'
import type { Session } from '../../src/index.ts'
import { SessionManager } from '../../src/index.ts'
import { describeAdapter, listen, sendNode } from '../adapter-suite.ts'

describeAdapter('Express', async ({ managers, routes }) => {
  const app = express()
  for (const manager of managers) app.use(loadAndSave(manager))
  for (const [path, route] of Object.entries(routes)) {
    app.get(path, async (req, res) => {
      await sendNode(res, await route({ session: (m) => m.from(req) }))
    })
  }
  return listen(app)
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
