import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { Session, SessionData } from '../session.js'
import type { SessionManager } from '../session-manager.js'
import { varyWith } from '../vary.js'
import { deviceOf, headerValue } from './device.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The session the outermost sessionkit `loadAndSave` attached; `manager.from(request)` gives it typed. */
    session: Session | null
  }
}

/** The plugin `loadAndSave` returns; it takes no options. */
export type SessionPlugin = FastifyPluginCallback<Record<never, never>>

function headerText(value: number | string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

function addVary(reply: FastifyReply, name: string): void {
  reply.header('vary', varyWith(headerText(reply.getHeader('vary')), name))
}

function addCookie(
  reply: FastifyReply,
  manager: SessionManager<SessionData>,
  cookie: string,
  extras: readonly string[],
): void {
  // Fastify appends each set-cookie value instead of replacing it; a token header is one value.
  reply.header(
    manager.responseHeader === 'Set-Cookie' ? 'set-cookie' : manager.responseHeader,
    cookie,
  )
  for (const extra of extras) reply.header('set-cookie', extra)
  const cacheControl = reply.getHeader('cache-control')
  if (manager.cacheControl === 'no-store' || cacheControl === undefined) {
    reply.header('cache-control', manager.cacheControl)
  } else {
    const existing = Array.isArray(cacheControl) ? cacheControl : [String(cacheControl)]
    reply.header('cache-control', [...existing, manager.cacheControl])
  }
}

/**
 * Fastify plugin (SCS LoadAndSave): loads the session in `onRequest` into `request.session` and
 * `manager.from(request)`, and commits it in `onSend`, adding `Vary`, `Set-Cookie` and
 * `Cache-Control` before the reply is written, streams included. Load and commit failures go to
 * Fastify's error handler; the error reply keeps `Vary: Cookie` and has no Set-Cookie. The plugin
 * skips encapsulation (as fastify-plugin would), so its hooks cover every route of the instance it
 * is registered on.
 *
 * @example
 * await app.register(loadAndSave(sessions))
 * app.get('/put', async (request) => { sessions.from(request).put('message', 'Hello'); return '' })
 */
export function loadAndSave<Data extends object>(manager: SessionManager<Data>): SessionPlugin {
  const core = manager as unknown as SessionManager<SessionData>
  // Requests whose session this plugin loaded and has not committed yet. onSend runs again for an
  // error reply; by then the request has left this set, so a failed commit is not retried.
  const pending = new WeakSet<FastifyRequest>()

  const start = (request: FastifyRequest, session: Session<SessionData>): void => {
    core.attach(
      request,
      session,
      core.recordsDevices ? deviceOf(request.headers['user-agent'], request.ip) : undefined,
      // Fastify's protocol honours its trustProxy option.
      core.securesByRequest ? request.protocol === 'https' : undefined,
    )
    request.session ??= session
    pending.add(request)
  }

  const plugin: SessionPlugin = (fastify, _options, registered) => {
    if (!fastify.hasRequestDecorator('session')) fastify.decorateRequest('session', null)

    fastify.addHook('onRequest', (request, _reply, done) => {
      if (core.peek(request) !== undefined) {
        done()
        return
      }
      let loaded: Session<SessionData> | Promise<Session<SessionData>>
      try {
        loaded = core.loadCookieHeader(headerValue(request.headers[core.requestHeader]))
      } catch (err) {
        done(err as Error)
        return
      }
      if (!(loaded instanceof Promise)) {
        start(request, loaded)
        done()
        return
      }
      loaded.then(
        (session) => {
          start(request, session)
          done()
        },
        (err: Error) => done(err),
      )
    })

    fastify.addHook('onSend', (request, reply, payload, done) => {
      addVary(reply, core.varyHeader)
      if (!pending.delete(request)) {
        done(null, payload)
        return
      }
      const session = core.from(request)
      let outcome: string | undefined | Promise<string | undefined>
      try {
        outcome = core.commitResponse(session)
      } catch (err) {
        done(err as Error)
        return
      }
      if (!(outcome instanceof Promise)) {
        if (outcome !== undefined) addCookie(reply, core, outcome, core.extraCookies(session))
        done(null, payload)
        return
      }
      outcome.then(
        (cookie) => {
          if (cookie !== undefined) addCookie(reply, core, cookie, core.extraCookies(session))
          done(null, payload)
        },
        (err: Error) => done(err),
      )
    })

    registered()
  }
  const marked = plugin as SessionPlugin & Record<symbol, unknown>
  marked[Symbol.for('skip-override')] = true
  marked[Symbol.for('fastify.display-name')] = `sessionkit(${manager.cookieName})`
  return plugin
}
