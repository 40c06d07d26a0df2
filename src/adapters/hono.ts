import type { Context, Env, MiddlewareHandler } from 'hono'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'
import { deviceOf } from './device.js'
import {
  cameOverHttps,
  loadRequestSession,
  setSessionHeaders,
  withSessionHeaders,
} from './fetch.js'

declare module 'hono' {
  interface ContextVariableMap {
    /** The session the outermost sessionkit `loadAndSave` attached; `manager.from(c)` gives it typed. */
    session: Session
  }
}

// Hono's `c.res` setter merges the old response's headers over the new one, which would undo the
// merged Vary and drop the Set-Cookie; clearing it first makes the assignment a plain replace.
function replaceResponse(c: Context, response: Response): void {
  if (c.res === response) return
  c.res = undefined
  c.res = response
}

/**
 * Hono middleware (SCS LoadAndSave), built on the Fetch adapter: loads the session into
 * `c.get('session')`, `manager.from(c)` and `manager.from(c.req.raw)`, and after `await next()`
 * commits it and adds `Vary`, `Set-Cookie` and `Cache-Control` to `c.res` before Hono returns the
 * response. Load and commit failures are thrown to Hono's `onError`; their response carries
 * `Vary: Cookie` and no Set-Cookie.
 *
 * @example
 * app.use(loadAndSave(sessions))
 * app.get('/put', (c) => { sessions.from(c).put('message', 'Hello'); return c.body(null) })
 */
export function loadAndSave<Data extends object>(
  manager: SessionManager<Data>,
): MiddlewareHandler<Env> {
  return async function sessionMiddleware(c, next) {
    if (manager.peek(c) !== undefined) {
      await next()
      return
    }
    // Prepared headers reach the responses Hono's onError builds with c.text() or c.json().
    c.header('Vary', manager.varyHeader)
    const session = await loadRequestSession(manager, c.req.raw)
    manager.attach(
      c,
      session,
      manager.recordsDevices ? deviceOf(c.req.header('user-agent'), undefined) : undefined,
      manager.securesByRequest ? cameOverHttps(manager, c.req.raw) : undefined,
    )
    manager.attach(c.req.raw, session)
    if (c.get('session') === undefined) c.set('session', session as unknown as Session)
    await next()
    // A handler that returned nothing: leave Hono to report "Context is not finalized".
    if (!c.finalized) return
    // Vary goes on before the commit so an error response built from c.res keeps it.
    replaceResponse(c, withSessionHeaders(c.res, manager, undefined))
    const cookie = await manager.commitResponse(session)
    if (cookie !== undefined) {
      setSessionHeaders(c.res.headers, manager, cookie, manager.extraCookies(session))
    }
  }
}
