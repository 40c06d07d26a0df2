import type { HeaderSink } from '../response-headers.js'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'
import { deviceOf } from './device.js'

declare module 'koa' {
  interface ExtendableContext {
    /** The session the outermost sessionkit `loadAndSave` attached; `manager.from(ctx)` gives it typed. */
    session?: Session
  }
}

/** The part of a Koa context the middleware uses, typed structurally so no Koa import is needed. */
export interface KoaContextLike {
  /** A request header; '' when absent. */
  get(field: string): string
  set(field: string, value: string): void
  append(field: string, value: string): void
  /** The response, for reading a response header ('' when absent). */
  response: { get(field: string): string }
  /** The client address (Koa's `ctx.ip`, which honours `app.proxy`). */
  ip?: string
  /** The request came over HTTPS (Koa's `ctx.secure`, which honours `app.proxy`). */
  secure?: boolean
  session?: Session
}

// Koa's response headers for the header step.
const koaHeaders: HeaderSink<KoaContextLike> = {
  get: (ctx, name) => ctx.response.get(name) || undefined,
  set(ctx, name, value) {
    ctx.set(name, value)
  },
  append(ctx, name, value) {
    ctx.append(name, value)
  },
}

/** A Koa middleware: `app.use()` accepts it in Koa 2 and 3. */
export type KoaSessionMiddleware = (
  ctx: KoaContextLike,
  next: () => Promise<unknown>,
) => Promise<void>

// Koa's onerror clears every header and then sets those on `err.headers`; this keeps Vary on the
// error response, as SCS sends it on every response.
function withVary(err: unknown, name: string): unknown {
  if (err instanceof Error && !('headers' in err)) Object.assign(err, { headers: { Vary: name } })
  return err
}

/**
 * Koa middleware (SCS LoadAndSave): loads the session into `ctx.session` and `manager.from(ctx)`,
 * and after `await next()`, before Koa writes the body, commits it and adds `Vary`, `Set-Cookie`
 * and `Cache-Control`. Load and commit failures are thrown into Koa's chain (ctx.onerror, the
 * app's 'error' event); their response carries `Vary: Cookie` and no Set-Cookie. A handler error
 * propagates without a commit.
 *
 * @example
 * app.use(loadAndSave(sessions))
 * app.use((ctx) => { sessions.from(ctx).put('message', 'Hello'); ctx.body = '' })
 */
export function loadAndSave<Data extends object>(
  manager: SessionManager<Data>,
): KoaSessionMiddleware {
  return async function sessionMiddleware(ctx, next) {
    if (manager.peek(ctx) !== undefined) {
      await next()
      return
    }
    let session: Session<Data>
    try {
      session = await manager.loadCookieHeader(ctx.get(manager.requestHeader) || undefined)
    } catch (err) {
      throw withVary(err, manager.varyHeader)
    }
    manager.attach(
      ctx,
      session,
      manager.recordsDevices ? deviceOf(ctx.get('User-Agent'), ctx.ip) : undefined,
      manager.securesByRequest ? ctx.secure === true : undefined,
    )
    ctx.session ??= session as unknown as Session
    await next()
    let cookie: string | undefined
    try {
      cookie = await manager.commitResponse(session)
    } catch (err) {
      throw withVary(err, manager.varyHeader)
    }
    manager.writeHeaders(koaHeaders, ctx, session, cookie)
  }
}
