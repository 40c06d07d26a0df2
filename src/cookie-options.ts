import type { CookieOptions, ResolvedCookieOptions } from './cookie.js'
import { checkKeys, flag, invalid } from './option-checks.js'

/** A cookie name (an RFC 6265 token); also what a token header's name must be. */
export const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const COOKIE_ATTR = /^[\u0021-\u003a\u003c-\u007e]*$/
const DOMAIN =
  /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/
const COOKIE_KEYS: readonly string[] = [
  'name',
  'domain',
  'path',
  'httpOnly',
  'secure',
  'sameSite',
  'partitioned',
  'persist',
]

/** The `cookie` option with its defaults, validated, naming the option at fault. */
export function resolveCookie(cookie: CookieOptions = {}): ResolvedCookieOptions {
  if (typeof cookie !== 'object' || cookie === null) invalid('cookie', 'must be an object')
  checkKeys(cookie, COOKIE_KEYS, 'cookie.')
  const name = cookie.name ?? 'session'
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    invalid(
      'cookie.name',
      `must be a non-empty RFC 6265 token (letters, digits, !#$%&'*+-.^_\`|~), got ${JSON.stringify(name)}`,
    )
  }
  const path = cookie.path ?? '/'
  if (typeof path !== 'string' || !COOKIE_ATTR.test(path)) {
    invalid('cookie.path', `must be printable ASCII without ';', got ${JSON.stringify(path)}`)
  }
  const domain = cookie.domain === '' ? undefined : cookie.domain
  if (domain !== undefined && (typeof domain !== 'string' || !DOMAIN.test(domain))) {
    invalid(
      'cookie.domain',
      `must be a host name such as example.com, got ${JSON.stringify(domain)}`,
    )
  }
  const sameSite = cookie.sameSite ?? 'lax'
  if (sameSite !== false && sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    invalid('cookie.sameSite', `must be 'lax', 'strict', 'none' or false, got ${String(sameSite)}`)
  }
  const secure = cookie.secure ?? false
  if (typeof secure !== 'boolean' && secure !== 'auto') {
    invalid('cookie.secure', `must be true, false or 'auto', got ${String(secure)}`)
  }
  // 'auto' leaves Secure off on plain http, where browsers would drop a cookie these rules cover,
  // so each of them needs Secure always.
  const auto = secure === 'auto' ? ` ('auto' leaves it off on plain http)` : ''
  const partitioned = flag(cookie.partitioned, 'cookie.partitioned', false)
  if (sameSite === 'none' && secure !== true) {
    invalid(
      'cookie.sameSite',
      `'none' needs cookie.secure: true${auto}; browsers reject SameSite=None cookies without Secure`,
    )
  }
  // Browsers honour these prefixes case-insensitively and refuse a cookie that breaks their rules.
  const lower = name.toLowerCase()
  if (lower.startsWith('__host-') && (secure !== true || path !== '/' || domain !== undefined)) {
    invalid(
      'cookie.name',
      `"${name}" uses the __Host- prefix, which needs cookie.secure: true${auto}, cookie.path: '/' and no cookie.domain; browsers reject it otherwise`,
    )
  }
  if (lower.startsWith('__secure-') && secure !== true) {
    invalid(
      'cookie.name',
      `"${name}" uses the __Secure- prefix, which needs cookie.secure: true${auto}; browsers reject it otherwise`,
    )
  }
  if (partitioned && secure !== true) {
    invalid(
      'cookie.partitioned',
      `needs cookie.secure: true${auto}; browsers reject Partitioned cookies without Secure`,
    )
  }
  return {
    name,
    path,
    domain,
    httpOnly: flag(cookie.httpOnly, 'cookie.httpOnly', true),
    secure,
    sameSite,
    partitioned,
    persist: flag(cookie.persist, 'cookie.persist', true),
  }
}
