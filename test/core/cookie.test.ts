import { describe, expect, it } from 'vitest'
import { SessionManager } from '../../src/index.ts'

const NOW = Date.parse('2019-04-26T10:28:19.000Z')
const TOKEN = 'lHqcPNiQp_5diPxumzOklsSdE-MJ7zyU6kjch1Ee0UM'

function manager(options: ConstructorParameters<typeof SessionManager>[0] = {}, now = NOW) {
  return new SessionManager({ clock: () => now, ...options })
}

describe('SessionManager#sessionCookie (Go http.Cookie bytes, reference §2.4)', () => {
  it('writes the default persistent cookie exactly', () => {
    const expiry = new Date(NOW + 24 * 3600_000)
    expect(manager().sessionCookie(TOKEN, expiry)).toBe(
      `session=${TOKEN}; Path=/; Expires=Sat, 27 Apr 2019 10:28:20 GMT; Max-Age=86400; HttpOnly; SameSite=Lax`,
    )
  })

  it('omits Expires and Max-Age for a non-persistent cookie', () => {
    const m = manager({ cookie: { persist: false } })
    expect(m.sessionCookie(TOKEN, new Date(NOW + 1000))).toBe(
      `session=${TOKEN}; Path=/; HttpOnly; SameSite=Lax`,
    )
  })

  it('orders Path, Domain, Expires, Max-Age, HttpOnly, Secure, SameSite, Partitioned', () => {
    const m = manager({
      cookie: {
        name: 'sid',
        domain: '.example.com',
        path: '/app',
        secure: true,
        sameSite: 'strict',
        partitioned: true,
      },
    })
    expect(m.sessionCookie(TOKEN, new Date(NOW + 1200_000))).toBe(
      `sid=${TOKEN}; Path=/app; Domain=example.com; Expires=Fri, 26 Apr 2019 10:48:20 GMT; Max-Age=1200; HttpOnly; Secure; SameSite=Strict; Partitioned`,
    )
  })

  it('omits HttpOnly, Path and SameSite when they are turned off', () => {
    const m = manager({ cookie: { httpOnly: false, path: '', sameSite: false, persist: false } })
    expect(m.sessionCookie(TOKEN, new Date(NOW))).toBe(`session=${TOKEN}`)
  })

  it('writes SameSite=None with Secure', () => {
    const m = manager({ cookie: { sameSite: 'none', secure: true, persist: false } })
    expect(m.sessionCookie(TOKEN, new Date(NOW))).toBe(
      `session=${TOKEN}; Path=/; HttpOnly; Secure; SameSite=None`,
    )
  })

  it('writes the deletion cookie exactly, with the configured attributes', () => {
    expect(manager().expiredCookie()).toBe(
      'session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; SameSite=Lax',
    )
    expect(manager({ cookie: { domain: 'example.com', secure: true } }).expiredCookie()).toBe(
      'session=; Path=/; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax',
    )
  })
})

describe("cookie.secure: 'auto'", () => {
  const auto = manager({ cookie: { secure: 'auto', persist: false } })

  it('writes Secure only for a request that came over HTTPS, live and deletion cookies alike', () => {
    expect(auto.sessionCookie(TOKEN, new Date(NOW), false, true)).toBe(
      `session=${TOKEN}; Path=/; HttpOnly; Secure; SameSite=Lax`,
    )
    expect(auto.sessionCookie(TOKEN, new Date(NOW))).toBe(
      `session=${TOKEN}; Path=/; HttpOnly; SameSite=Lax`,
    )
    expect(auto.expiredCookie(true)).toBe(
      'session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; Secure; SameSite=Lax',
    )
    expect(auto.expiredCookie()).toBe(
      'session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; SameSite=Lax',
    )
  })

  it('leaves secure: true and false as they are, whatever the request', () => {
    const always = manager({ cookie: { secure: true, persist: false } })
    expect(always.sessionCookie(TOKEN, new Date(NOW), false, false)).toContain('; Secure;')
    const never = manager({ cookie: { persist: false } })
    expect(never.sessionCookie(TOKEN, new Date(NOW), false, true)).not.toContain('Secure')
    expect(never.expiredCookie(true)).not.toContain('Secure')
  })

  it('is the only setting under which adapters ask whether a request came over HTTPS', () => {
    expect(auto.securesByRequest).toBe(true)
    expect(manager({ cookie: { secure: true } }).securesByRequest).toBe(false)
    expect(manager().securesByRequest).toBe(false)
  })

  it("ignores X-Forwarded-Proto unless trustProxy, and then takes the header's first value", () => {
    expect(auto.cameOverHttps(false, 'https')).toBe(false)
    expect(auto.cameOverHttps(true, 'http')).toBe(true)
    const proxied = manager({ cookie: { secure: 'auto' }, trustProxy: true })
    expect(proxied.cameOverHttps(false, 'https')).toBe(true)
    expect(proxied.cameOverHttps(false, 'HTTPS')).toBe(true)
    expect(proxied.cameOverHttps(false, ' https , http')).toBe(true)
    expect(proxied.cameOverHttps(true, 'http, https')).toBe(false)
    // No header: the connection's own protocol.
    expect(proxied.cameOverHttps(true, null)).toBe(true)
    expect(proxied.cameOverHttps(false, undefined)).toBe(false)
    expect(proxied.cameOverHttps(false, '')).toBe(false)
  })
})

describe('Max-Age and Expires rounding (reference §2.5)', () => {
  const cookieAt = (remainingMs: number, expiryMs = NOW + remainingMs) =>
    manager().sessionCookie(TOKEN, new Date(expiryMs))

  it('rounds Expires up to the next whole second after the expiry', () => {
    expect(cookieAt(0, NOW + 1_500)).toContain('Expires=Fri, 26 Apr 2019 10:28:21 GMT')
    expect(cookieAt(0, NOW + 1_000)).toContain('Expires=Fri, 26 Apr 2019 10:28:21 GMT')
    expect(cookieAt(0, NOW + 999)).toContain('Expires=Fri, 26 Apr 2019 10:28:20 GMT')
  })

  it('gives Max-Age=1 for a 500 ms lifetime and Max-Age=1200 for a 20 minute idle timeout', () => {
    expect(cookieAt(500)).toContain('; Max-Age=1;')
    expect(cookieAt(1_200_000)).toContain('; Max-Age=1200;')
    expect(cookieAt(1_200_001)).toContain('; Max-Age=1201;')
  })

  it('gives each cookie from one manager the Expires of its own expiry, across second boundaries', () => {
    const m = manager()
    const expiresOf = (ms: number) =>
      /Expires=([^;]+)/.exec(m.sessionCookie(TOKEN, new Date(ms)))?.[1]
    expect(expiresOf(NOW + 1_500)).toBe('Fri, 26 Apr 2019 10:28:21 GMT')
    expect(expiresOf(NOW + 1_999)).toBe('Fri, 26 Apr 2019 10:28:21 GMT')
    expect(expiresOf(NOW + 2_000)).toBe('Fri, 26 Apr 2019 10:28:22 GMT')
    expect(expiresOf(NOW + 1_000)).toBe('Fri, 26 Apr 2019 10:28:21 GMT')
    expect(expiresOf(NOW + 86_400_000)).toBe('Sat, 27 Apr 2019 10:28:20 GMT')
  })

  it('omits Max-Age when the expiry has just passed and writes Max-Age=0 long after', () => {
    expect(cookieAt(-500)).not.toContain('Max-Age')
    expect(cookieAt(-3_000)).toContain('; Max-Age=0;')
  })
})
