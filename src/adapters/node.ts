import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'
import { deviceOf, headerValue, overTls } from './device.js'
import { addVary, commitStarted, hookResponse } from './response-hook.js'

declare module 'node:http' {
  interface IncomingMessage {
    /** The session the outermost sessionkit `loadAndSave` attached; `manager.from(req)` gives it typed. */
    session?: Session
  }
}

/** A node:http request handler; it may be async. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown

/**
 * Wraps a node:http handler with session loading and saving (SCS LoadAndSave): the session for the
 * request's cookie is on `req.session` and `manager.from(req)`, and is committed before the first
 * byte of the response. Load and commit failures go to the manager's `onError`. The returned
 * listener settles a promise only when the store or the handler is asynchronous.
 *
 * @example
 * http.createServer(loadAndSave(sessions, (req, res) => {
 *   sessions.from(req).put('message', 'Hello from a session!')
 *   res.end()
 * }))
 */
export function loadAndSave<Data extends object>(
  manager: SessionManager<Data>,
  handler: NodeHandler,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> | undefined {
  const onError = (err: Error, req: IncomingMessage, res: ServerResponse): void => {
    addVary(res, manager)
    Promise.resolve()
      .then(() => manager.onError(err, req, res))
      .catch((handlerErr: unknown) => {
        console.error('sessionkit: onError failed:', handlerErr)
        res.destroy()
      })
  }
  const failed = (err: unknown, req: IncomingMessage, res: ServerResponse): void => {
    // A throwing handler must not take the process down or leave the client hanging.
    if (!commitStarted(res) && !res.headersSent) onError(err as Error, req, res)
    else {
      console.error('sessionkit: handler failed after its response started:', err)
      res.destroy()
    }
  }
  // Synchronous all the way for a synchronous handler and a request without a session cookie:
  // no promise is made unless the store or the handler is asynchronous.
  const run = (req: IncomingMessage, res: ServerResponse): Promise<void> | undefined => {
    let result: unknown
    try {
      result = handler(req, res)
    } catch (err) {
      failed(err, req, res)
      return undefined
    }
    if (!(result instanceof Promise)) return undefined
    return result.then(
      () => undefined,
      (err: unknown) => failed(err, req, res),
    )
  }
  const start = (
    req: IncomingMessage,
    res: ServerResponse,
    session: Session<Data>,
  ): Promise<void> | undefined => {
    manager.attach(
      req,
      session,
      manager.recordsDevices
        ? deviceOf(req.headers['user-agent'], req.socket.remoteAddress)
        : undefined,
      manager.securesByRequest
        ? manager.cameOverHttps(overTls(req), headerValue(req.headers['x-forwarded-proto']))
        : undefined,
    )
    req.session ??= session as unknown as Session
    hookResponse(res, manager, session, req, onError)
    return run(req, res)
  }
  return function sessionHandler(req, res) {
    if (manager.peek(req) !== undefined) return run(req, res)
    let loaded: Session<Data> | Promise<Session<Data>>
    try {
      loaded = manager.loadCookieHeader(headerValue(req.headers[manager.requestHeader]))
    } catch (err) {
      onError(err as Error, req, res)
      return undefined
    }
    if (!(loaded instanceof Promise)) return start(req, res, loaded)
    return loaded.then(
      (session) => start(req, res, session),
      (err: unknown) => onError(err as Error, req, res),
    )
  }
}
