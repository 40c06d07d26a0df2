import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/node.ts'
import type { Session } from '../../src/index.ts'
import { SessionManager } from '../../src/index.ts'
import { describeAdapter, listen, sendNode } from '../helpers/adapter-suite.ts'

describeAdapter('node:http', async ({ managers, routes, tls }) => {
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined = async (
    req,
    res,
  ) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname]
    if (route === undefined) {
      res.statusCode = 404
      res.end()
      return
    }
    await sendNode(res, await route({ session: (m) => m.from(req) }))
  }
  for (const manager of [...managers].reverse()) handler = loadAndSave(manager, handler)
  return listen(handler, tls)
})

describe('node:http adapter types', () => {
  it("types manager.from(req) with the manager's data", () => {
    const sessions = new SessionManager<{ userId: number }>()
    loadAndSave(sessions, (req) => {
      expectTypeOf(sessions.from(req)).toEqualTypeOf<Session<{ userId: number }>>()
      expectTypeOf(sessions.from(req).get('userId')).toEqualTypeOf<number | undefined>()
      expectTypeOf(req.session).toEqualTypeOf<Session | undefined>()
    })
    expect(sessions.cookieName).toBe('session')
  })
})
