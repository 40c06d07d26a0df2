import type { HeaderNames, HeaderSink } from '../response-headers.js'
import { writeSessionHeaders } from '../response-headers.js'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'
import { varyWithCookie } from '../vary.js'
import { deviceOf } from './device.js'

export { varyWithCookie }

/** A Fetch handler that also receives the request's session; it may be async. */
export type FetchSessionHandler<Data extends object> = (
  request: Request,
  session: Session<Data>,
) => Response | Promise<Response>

/** A Fetch `Headers` for the header step. */
const fetchHeaders: HeaderSink<Headers> = {
  get: (headers, name) => headers.get(name) ?? undefined,
  set(headers, name, value) {
    headers.set(name, value)
  },
  append(headers, name, value) {
    headers.append(name, value)
  },
}

/**
 * Adds the commit step's headers to a mutable `Headers` (the one response-header step,
 * `writeSessionHeaders`): `Vary` (Cookie, or the token header) always, and with a value its
 * `Set-Cookie` (or token header) plus the manager's Cache-Control (appended; `no-store` replaces).
 */
export function setSessionHeaders(
  headers: Headers,
  manager: HeaderNames,
  cookie: string | undefined,
  extras: readonly string[] = [],
): void {
  writeSessionHeaders(fetchHeaders, headers, manager, cookie, extras)
}

/**
 * `response` with the commit step's headers ({@link setSessionHeaders}) added in place, or a copy
 * carrying them when its headers are immutable (`Response.redirect()`, `fetch()` results).
 */
export function withSessionHeaders(
  response: Response,
  manager: HeaderNames,
  cookie: string | undefined,
  extras: readonly string[] = [],
): Response {
  try {
    setSessionHeaders(response.headers, manager, cookie, extras)
    return response
  } catch (err) {
    // Immutable headers throw on the first write, so nothing was half-applied.
    if (!(err instanceof TypeError)) throw err
  }
  const copy = new Response(response.body, response)
  setSessionHeaders(copy.headers, manager, cookie, extras)
  return copy
}

/**
 * Whether `request` came over HTTPS: its URL's scheme (Request URLs are normalised, so the
 * scheme is lower-case), or a trusted X-Forwarded-Proto (the manager's `trustProxy`).
 */
export function cameOverHttps<Data extends object>(
  manager: SessionManager<Data>,
  request: Request,
): boolean {
  return manager.cameOverHttps(
    request.url.startsWith('https:'),
    request.headers.get('x-forwarded-proto'),
  )
}

/**
 * Loads the session named by a request's Cookie header (synchronously, with no store call, when
 * it holds no well-formed token). Rejects with the manager's `ERR_STORE` or `ERR_CODEC` errors.
 */
export function loadRequestSession<Data extends object>(
  manager: SessionManager<Data>,
  request: Request,
): Session<Data> | Promise<Session<Data>> {
  return manager.loadCookieHeader(request.headers.get(manager.requestHeader) ?? undefined)
}

/**
 * Wraps a Fetch handler with session loading and saving (SCS LoadAndSave) for `(Request) =>
 * Response` runtimes: the handler gets the session as its second argument (also
 * `manager.from(request)`); once it returns, the session is committed and `Vary`, `Set-Cookie`
 * and `Cache-Control` are added to its Response (to a copy when that Response's headers are
 * immutable). The body is not read, so streamed responses stay streamed and any later session
 * change throws `ERR_SESSION_SENT`. Load and commit failures reject the returned promise, the
 * runtime's error path, and no Set-Cookie is sent. Return a new Response per request: a mutable
 * Response shared between requests would collect every request's Set-Cookie.
 *
 * @example
 * export default {
 *   fetch: loadAndSave(sessions, async (request, session) => {
 *     session.put('message', 'Hello from a session!')
 *     return new Response('ok')
 *   }),
 * }
 */
export function loadAndSave<Data extends object>(
  manager: SessionManager<Data>,
  handler: FetchSessionHandler<Data>,
): (request: Request) => Promise<Response> {
  return async function sessionHandler(request) {
    const attached = manager.peek(request)
    if (attached !== undefined) return handler(request, attached)
    const session = await loadRequestSession(manager, request)
    // A Request carries no client address; the User-Agent is all there is to record.
    manager.attach(
      request,
      session,
      manager.recordsDevices ? deviceOf(request.headers.get('user-agent'), undefined) : undefined,
      manager.securesByRequest ? cameOverHttps(manager, request) : undefined,
    )
    const response = await handler(request, session)
    const cookie = await manager.commitResponse(session)
    return withSessionHeaders(response, manager, cookie, manager.extraCookies(session))
  }
}
