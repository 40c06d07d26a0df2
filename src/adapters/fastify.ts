import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { HeaderSink } from '../response-headers.js'
import { writeSessionHeaders } from '../response-headers.js'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'
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

// Fastify appends each set-cookie value given to reply.header(); other names it replaces.
const fastifyHeaders: HeaderSink<FastifyReply> = {
  get: (reply, name) => headerText(reply.getHeader(name)),
  set(reply, name, value) {
    reply.header(name, value)
  },
  append(reply, name, value) {
    const existing = name.toLowerCase() === 'set-cookie' ? undefined : reply.getHeader(name)
    if (existing === undefined) reply.header(name, value)
    else reply.header(name, [...(Array.isArray(existing) ? existing : [String(existing)]), value])
  },
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
  // Requests whose session this plugin loaded and has not committed yet. onSend runs again for an
  // error reply; by then the request has left this set, so a failed commit is not retried.
  const pending = new WeakSet<FastifyRequest>()

  const start = (request: FastifyRequest, session: Session<Data>): void => {
    manager.attach(
      request,
      session,
      manager.recordsDevices ? deviceOf(request.headers['user-agent'], request.ip) : undefined,
      // Fastify's protocol honours its trustProxy option.
      manager.securesByRequest ? request.protocol === 'https' : undefined,
    )
    request.session ??= session as unknown as Session
    pending.add(request)
  }

  const plugin: SessionPlugin = (fastify, _options, registered) => {
    if (!fastify.hasRequestDecorator('session')) fastify.decorateRequest('session', null)

    fastify.addHook('onRequest', (request, _reply, done) => {
      if (manager.peek(request) !== undefined) {
        done()
        return
      }
      let loaded: Session<Data> | Promise<Session<Data>>
      try {
        loaded = manager.loadCookieHeader(headerValue(request.headers[manager.requestHeader]))
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
      // Vary first, so an error reply keeps it.
      writeSessionHeaders(fastifyHeaders, reply, manager, undefined)
      if (!pending.delete(request)) {
        done(null, payload)
        return
      }
      const session = manager.from(request)
      let outcome: string | undefined | Promise<string | undefined>
      try {
        outcome = manager.commitResponse(session)
      } catch (err) {
        done(err as Error)
        return
      }
      if (!(outcome instanceof Promise)) {
        if (outcome !== undefined) manager.writeHeaders(fastifyHeaders, reply, session, outcome)
        done(null, payload)
        return
      }
      outcome.then(
        (cookie) => {
          if (cookie !== undefined) manager.writeHeaders(fastifyHeaders, reply, session, cookie)
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
