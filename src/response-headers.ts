import { varyWith } from './vary.js'

/**
 * How an adapter reads and writes its framework's response headers: read one (for Vary, which is
 * merged), replace one, or add one more line of it (Set-Cookie, Cache-Control). One static object
 * per framework, with the response passed in, so the step allocates nothing per request.
 */
export interface HeaderSink<Target> {
  get(target: Target, name: string): string | undefined
  set(target: Target, name: string, value: string): void
  append(target: Target, name: string, value: string): void
}

/** What the header step needs to know of a manager: the header names and the Cache-Control it sends. */
export interface HeaderNames {
  /** `Cookie`, or the `tokenHeader`: added to every response's Vary. */
  readonly varyHeader: string
  /** `Set-Cookie`, or the `tokenHeader`, where the commit step's value goes. */
  readonly responseHeader: string
  /** Sent with every value: appended, or `no-store` in place of any other. */
  readonly cacheControl: string
}

/**
 * The one response-header step every adapter runs after a session's commit step: `Vary` always
 * (merged, never repeated), and when the commit step gave a `value`, that value in Set-Cookie
 * (appended) or in the token header (replaced), the `extras` (the bridge's deletion of another
 * library's cookie), and Cache-Control (SCS appends `no-cache="Set-Cookie"`; `no-store` replaces).
 * Called with no value before the commit, it adds Vary alone, so an error response keeps it.
 */
export function writeSessionHeaders<Target>(
  sink: HeaderSink<Target>,
  target: Target,
  names: HeaderNames,
  value: string | undefined,
  extras: readonly string[] = [],
): void {
  const vary = sink.get(target, 'Vary')
  const merged = varyWith(vary, names.varyHeader)
  if (merged !== vary) sink.set(target, 'Vary', merged)
  if (value === undefined) return
  if (names.responseHeader === 'Set-Cookie') sink.append(target, 'Set-Cookie', value)
  else sink.set(target, names.responseHeader, value)
  for (const extra of extras) sink.append(target, 'Set-Cookie', extra)
  if (names.cacheControl === 'no-store') sink.set(target, 'Cache-Control', 'no-store')
  else sink.append(target, 'Cache-Control', names.cacheControl)
}
