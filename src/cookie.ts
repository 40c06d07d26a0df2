import { parse } from 'cookie'

/** The SameSite attribute: `false` omits it (SCS's 0 and SameSiteDefaultMode). */
export type SameSite = 'lax' | 'strict' | 'none' | false

/** The session cookie's settings (SCS `SessionCookie`). */
export interface CookieOptions {
  /** Cookie name; give each manager its own. @default 'session' */
  name?: string
  /** Domain attribute; omitted when empty, one leading dot dropped. @default undefined */
  domain?: string | undefined
  /** Path attribute; an empty string omits it. @default '/' */
  path?: string
  /** @default true */
  httpOnly?: boolean
  /**
   * Secure: `true` always, `false` never, `'auto'` when the request came over HTTPS (as the
   * adapter's framework judges it, or `X-Forwarded-Proto` with the manager's `trustProxy`), so
   * one app serves both https:// and http://localhost. `'auto'` cannot be combined with
   * SameSite=None, Partitioned or a `__Host-`/`__Secure-` name, which need Secure always.
   * @default false
   */
  secure?: boolean | 'auto'
  /** @default 'lax' */
  sameSite?: SameSite
  /** Partitioned (CHIPS); needs `secure`. @default false */
  partitioned?: boolean
  /** Emit Expires/Max-Age for live sessions; when false, only sessions with rememberMe(true) get them. @default true */
  persist?: boolean
}

/** Cookie settings with every default filled in. */
export type ResolvedCookieOptions = Required<Omit<CookieOptions, 'domain'>> & {
  domain: string | undefined
}

const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const
const DELETION_EXPIRES = 'Thu, 01 Jan 1970 00:00:01 GMT'
const identity = (value: string): string => value

/**
 * Serialises session cookies byte for byte as Go's `http.Cookie.String()` does for SCS:
 * Name=Value; Path; Domain; Expires; Max-Age; HttpOnly; Secure; SameSite; Partitioned.
 * The attribute strings are built once, so a cookie costs two concatenations and a date.
 */
export class CookieWriter {
  readonly name: string
  readonly #prefix: string
  // Indexed by the request's `secure` flag; both carry Secure with `secure: true`, neither with false.
  readonly #suffix: readonly [string, string]
  // Expires changes once a second for a given lifetime, so the last string is reused.
  #expiresSecond = Number.NaN
  #expires = ''

  constructor(options: ResolvedCookieOptions) {
    this.name = options.name
    let prefix = ''
    if (options.path !== '') prefix += `; Path=${options.path}`
    if (options.domain) prefix += `; Domain=${options.domain.replace(/^\./, '')}`
    const suffix = (secure: boolean): string => {
      let s = ''
      if (options.httpOnly) s += '; HttpOnly'
      if (secure) s += '; Secure'
      if (options.sameSite) s += `; SameSite=${SAME_SITE[options.sameSite]}`
      if (options.partitioned) s += '; Partitioned'
      return s
    }
    this.#prefix = prefix
    this.#suffix =
      options.secure === 'auto'
        ? [suffix(false), suffix(true)]
        : [suffix(options.secure), suffix(options.secure)]
  }

  /**
   * The Set-Cookie value for a live session. With `persist`, Expires is the expiry rounded up to
   * the next whole second and Max-Age the whole seconds left, rounded up as Go's trunc(seconds + 1) does (omitted at 0).
   * `secure` (the request came over HTTPS) matters only with `secure: 'auto'`.
   */
  live(token: string, expiry: number, now: number, persist: boolean, secure = false): string {
    const suffix = this.#suffix[secure ? 1 : 0]
    if (!persist) return `${this.name}=${token}${this.#prefix}${suffix}`
    const second = Math.floor(expiry / 1000) + 1
    if (second !== this.#expiresSecond) {
      this.#expires = new Date(second * 1000).toUTCString()
      this.#expiresSecond = second
    }
    const expires = this.#expires
    const remaining = (expiry - now) / 1000
    // Go computes trunc(remaining + 1) with nanosecond clocks, where some time always passes
    // between setting the deadline and writing the cookie; a millisecond clock often sees none,
    // so a whole-second remainder is read as just under it, giving SCS's Max-Age=86400.
    let maxAge = Math.trunc(remaining + 1)
    if (remaining >= 0 && Number.isInteger(remaining)) maxAge -= 1
    const age = maxAge > 0 ? `; Max-Age=${maxAge}` : maxAge < 0 ? '; Max-Age=0' : ''
    return `${this.name}=${token}${this.#prefix}; Expires=${expires}${age}${suffix}`
  }

  /** The Set-Cookie value that deletes the cookie (SCS's zero-expiry cookie); `secure` as for {@link live}. */
  expired(secure = false): string {
    const suffix = this.#suffix[secure ? 1 : 0]
    return `${this.name}=${this.#prefix}; Expires=${DELETION_EXPIRES}; Max-Age=0${suffix}`
  }
}

/**
 * The value of the first cookie called `name` in a Cookie header, as Go's `r.Cookie` and the
 * `cookie` package both pick it, or '' when there is none. Values are not URL-decoded.
 */
export function readCookie(header: string | undefined, name: string): string {
  if (header === undefined || header === '' || !header.includes(name)) return ''
  return parse(header, { decode: identity })[name] ?? ''
}
