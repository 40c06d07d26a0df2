import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'
import { deviceOf, headerValue, overTls } from './device.js'
import { addVary, hookResponse } from './response-hook.js'

/** Express's `next`, typed structurally so this file imports nothing from express. */
export type NextFunction = (err?: unknown) => void

/** An Express middleware over node's request and response. */
export type SessionMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunction,
) => void

/**
 * Express middleware (SCS LoadAndSave): loads the session into `req.session` and
 * `manager.from(req)` and commits it before the first byte of the response. Store and codec
 * errors go to `next(err)`, Express's error handling, and the failed response sends no Set-Cookie.
 *
 * @example
 * app.use(loadAndSave(sessions))
 * app.get('/put', (req, res) => { sessions.from(req).put('message', 'Hello'); res.end() })
 */
export function loadAndSave<Data extends object>(manager: SessionManager<Data>): SessionMiddleware {
  return function sessionMiddleware(req, res, next) {
    if (manager.peek(req) !== undefined) {
      next()
      return
    }
    const fail = (err: unknown): void => {
      addVary(res, manager)
      next(err)
    }
    const start = (session: Session<Data>): void => {
      manager.attach(
        req,
        session,
        // Express's req.ip honours its `trust proxy` setting; plain node:http has none.
        manager.recordsDevices
          ? deviceOf(
              req.headers['user-agent'],
              (req as { ip?: string }).ip ?? req.socket.remoteAddress,
            )
          : undefined,
        // Express's req.secure honours `trust proxy` too; under plain connect, node's rule.
        manager.securesByRequest
          ? ((req as { secure?: boolean }).secure ??
              manager.cameOverHttps(overTls(req), headerValue(req.headers['x-forwarded-proto'])))
          : undefined,
      )
      req.session ??= session as unknown as Session
      hookResponse(res, manager, session, req, (err) => {
        // Whatever the handler set belongs to the response that failed.
        for (const name of res.getHeaderNames()) if (name !== 'vary') res.removeHeader(name)
        next(err)
      })
      next()
    }
    let loaded: Session<Data> | Promise<Session<Data>>
    try {
      loaded = manager.loadCookieHeader(headerValue(req.headers[manager.requestHeader]))
    } catch (err) {
      fail(err)
      return
    }
    if (loaded instanceof Promise) loaded.then(start, fail)
    else start(loaded)
  }
}
