import { varyWith } from './vary.js'

/**
 * A response's headers as an adapter's framework exposes them: read one (for Vary, which is
 * merged), replace one, or add one more line of it (Set-Cookie, Cache-Control).
 */
export interface HeaderSink {
  get(name: string): string | undefined
  set(name: string, value: string): void
  append(name: string, value: string): void
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
 */
export function writeSessionHeaders(
  sink: HeaderSink,
  names: HeaderNames,
  value: string | undefined,
  extras: readonly string[] = [],
): void {
  sink.set('Vary', varyWith(sink.get('Vary'), names.varyHeader))
  if (value === undefined) return
  if (names.responseHeader === 'Set-Cookie') sink.append('Set-Cookie', value)
  else sink.set(names.responseHeader, value)
  for (const extra of extras) sink.append('Set-Cookie', extra)
  if (names.cacheControl === 'no-store') sink.set('Cache-Control', 'no-store')
  else sink.append('Cache-Control', names.cacheControl)
}
