import { CookieWriter, readCookie } from '../cookie.js'
import type { ResolvedOptions } from '../options.js'

const BEARER = /^bearer\s+/i

/**
 * @internal How the token travels: in the session cookie (SCS), or with `tokenHeader` in a request
 * and response header (`Bearer <token>` for Authorization). Everything an adapter writes besides
 * the body comes from here: the header names, the value for a live or ended session, and the
 * Cache-Control that goes with it.
 */
export class TokenTransport {
  readonly cookies: CookieWriter
  /** The request header the token arrives in, lower-cased: `cookie`, or the `tokenHeader`. */
  readonly requestHeader: string
  /** The response header a new token goes out in: `Set-Cookie`, or the `tokenHeader`. */
  readonly responseHeader: string
  /** The request header every response's Vary names: `Cookie`, or the `tokenHeader`. */
  readonly varyHeader: string
  /** Sent with every token: SCS's `no-cache="Set-Cookie"`, or `no-store` (always with a header). */
  readonly cacheControl: string
  readonly #header: string | undefined
  readonly #bearer: boolean
  readonly #persist: boolean
  readonly #clock: () => number
  readonly #trustProxy: boolean
  /** True with `cookie.secure: 'auto'`: whether a request came over HTTPS decides Secure. */
  readonly securesByRequest: boolean

  constructor(options: ResolvedOptions) {
    this.cookies = new CookieWriter(options.cookie)
    const header = options.tokenHeader
    this.#header = header
    this.#bearer = header?.toLowerCase() === 'authorization'
    this.#persist = options.cookie.persist
    this.#clock = options.clock
    this.#trustProxy = options.trustProxy
    this.securesByRequest = options.cookie.secure === 'auto'
    this.requestHeader = header?.toLowerCase() ?? 'cookie'
    this.responseHeader = header ?? 'Set-Cookie'
    this.varyHeader = header ?? 'Cookie'
    // A token in a response header must never be cached; a cookie follows SCS's rule.
    this.cacheControl =
      options.cacheControl === 'no-store' || header !== undefined
        ? 'no-store'
        : 'no-cache="Set-Cookie"'
  }

  /** True when the token travels in the session cookie. */
  get inCookie(): boolean {
    return this.#header === undefined
  }

  /** The token a request header holds ('' for none): the session cookie's value, or the token header's. */
  tokenOf(header: string | undefined): string {
    if (this.#header === undefined) return readCookie(header, this.cookies.name)
    if (header === undefined) return ''
    const value = header.trim()
    if (!this.#bearer) return value
    return BEARER.test(value) ? value.replace(BEARER, '') : ''
  }

  /**
   * The response value for a live session: its cookie (persistent when `persist` or remembered;
   * `secure`: the request came over HTTPS, read with `cookie.secure: 'auto'`), or the token.
   */
  live(token: string, expiry: number, rememberMe: boolean, secure: boolean): string {
    if (this.#header !== undefined) return this.#bearer ? `Bearer ${token}` : token
    return this.cookies.live(token, expiry, this.#clock(), this.#persist || rememberMe, secure)
  }

  /** The response value for a destroyed session: the deletion cookie, or an empty token header. */
  ended(secure: boolean): string {
    return this.#header === undefined ? this.cookies.expired(secure) : ''
  }

  /**
   * Whether a request came over HTTPS, for adapters with no proxy setting of their framework's:
   * `https` (the connection's or the URL's own protocol), unless `trustProxy` is on and
   * `forwardedProto` (X-Forwarded-Proto) is present, whose first value then decides.
   */
  cameOverHttps(https: boolean, forwardedProto: string | null | undefined): boolean {
    if (!this.#trustProxy || forwardedProto == null || forwardedProto === '') return https
    const comma = forwardedProto.indexOf(',')
    const first = comma === -1 ? forwardedProto : forwardedProto.slice(0, comma)
    return first.trim().toLowerCase() === 'https'
  }
}
