import { describe, expect, it } from 'vitest'
import type { SessionManagerOptions } from '../../src/index.ts'
import { MemoryStore, SessionManager } from '../../src/index.ts'

const make = (options: unknown) => () => new SessionManager(options as SessionManagerOptions)

describe('SessionManager options', () => {
  it("has SCS's defaults: cookie 'session', Path=/, HttpOnly, Lax, persistent, 24 h", async () => {
    const now = Date.parse('2019-04-26T10:28:19Z')
    const sessions = new SessionManager({ clock: () => now })
    expect(sessions.cookieName).toBe('session')
    expect(sessions.store).toBeInstanceOf(MemoryStore)
    expect((await sessions.load('')).deadline.getTime()).toBe(now + 86_400_000)
    expect(sessions.cacheControl).toBe('no-cache="Set-Cookie"')
  })

  const invalid: Array<[string, unknown, RegExp]> = [
    ['a negative lifetime', { lifetime: -1 }, /option lifetime must be a positive number/],
    ['a zero lifetime', { lifetime: 0 }, /option lifetime/],
    [
      'a lifetime past year 9999',
      { lifetime: Number.MAX_SAFE_INTEGER },
      /option lifetime must end by 9999-12-31T23:59:58\.999Z/,
    ],
    ['a lifetime of 1e20 ms', { lifetime: 1e20 }, /option lifetime must end by/],
    ['an idleTimeout past year 9999', { idleTimeout: 1e20 }, /option idleTimeout must end by/],
    ['a non-numeric idleTimeout', { idleTimeout: '5m' }, /option idleTimeout/],
    ['an invalid cookie name', { cookie: { name: 'my session' } }, /option cookie\.name/],
    ['an empty cookie name', { cookie: { name: '' } }, /option cookie\.name/],
    ['SameSite=None without Secure', { cookie: { sameSite: 'none' } }, /cookie\.sameSite.*secure/],
    ['an unknown SameSite', { cookie: { sameSite: 'Lax' } }, /option cookie\.sameSite/],
    ['Partitioned without Secure', { cookie: { partitioned: true } }, /option cookie\.partitioned/],
    ['a path with a semicolon', { cookie: { path: '/a;b' } }, /option cookie\.path/],
    ['a bad domain', { cookie: { domain: 'exa mple.com' } }, /option cookie\.domain/],
    [
      'a misspelt option',
      { lifeTime: 1000 },
      /option lifeTime is not a known option \(did you mean lifetime\?\)/,
    ],
    [
      'a misspelt cookie option',
      { cookie: { sameSight: 'lax' } },
      /option cookie.sameSight .*did you mean cookie.sameSite\?/,
    ],
    [
      '__Host- without Secure',
      { cookie: { name: '__Host-session' } },
      /cookie\.name "__Host-session" uses the __Host- prefix/,
    ],
    [
      '__Host- with a Domain',
      { cookie: { name: '__Host-s', secure: true, domain: 'example.com' } },
      /__Host- prefix, which needs/,
    ],
    [
      '__Host- on a sub-path',
      { cookie: { name: '__host-s', secure: true, path: '/app' } },
      /__Host- prefix/,
    ],
    [
      '__Secure- without Secure',
      { cookie: { name: '__Secure-s' } },
      /__Secure- prefix, which needs cookie\.secure/,
    ],
    ['a negative maxBytes', { maxBytes: -1 }, /option maxBytes must be a non-negative integer/],
    [
      'a tokenHeader with a space',
      { tokenHeader: 'X Token' },
      /option tokenHeader must be an HTTP header name/,
    ],
    ['Cookie as the tokenHeader', { tokenHeader: 'cookie' }, /option tokenHeader/],
    ['a misspelt cookie option', { cookie: { httponly: true } }, /option cookie\.httponly/],
    [
      'a store without commit',
      { store: { find() {}, delete() {} } },
      /option store must implement commit/,
    ],
    ['a codec without decode', { codec: { encode() {} } }, /option codec/],
    ['an unknown cacheControl', { cacheControl: 'private' }, /option cacheControl/],
    [
      'a non-boolean secure',
      { cookie: { secure: 'yes' } },
      /option cookie\.secure must be true, false or 'auto'/,
    ],
    [
      "SameSite=None with secure: 'auto'",
      { cookie: { sameSite: 'none', secure: 'auto' } },
      /option cookie\.sameSite 'none' needs cookie\.secure: true \('auto' leaves it off on plain http\)/,
    ],
    [
      "__Host- with secure: 'auto'",
      { cookie: { name: '__Host-session', secure: 'auto' } },
      /__Host- prefix, which needs cookie\.secure: true \('auto'/,
    ],
    [
      "__Secure- with secure: 'auto'",
      { cookie: { name: '__Secure-session', secure: 'auto' } },
      /__Secure- prefix, which needs cookie\.secure: true \('auto'/,
    ],
    [
      "Partitioned with secure: 'auto'",
      { cookie: { partitioned: true, secure: 'auto' } },
      /option cookie\.partitioned needs cookie\.secure: true \('auto'/,
    ],
    ['a non-boolean trustProxy', { trustProxy: 1 }, /option trustProxy must be true or false/],
    [
      "trustProxy without secure: 'auto'",
      { trustProxy: true, cookie: { secure: true } },
      /option trustProxy serves cookie\.secure: 'auto' only/,
    ],
    [
      'a file name as the store',
      { store: 'sessions.db' },
      /option store must be a store object, not the string "sessions\.db": for a SQLite file use store: openSQLiteStore\('sessions\.db'\) from 'sessionkit\/sqlite'/,
    ],
    [
      'a store class instead of an instance',
      { store: MemoryStore },
      /option store must be a store object, not a function \(a class\? pass an instance\).*openSQLiteStore\('sessions\.db'\)/,
    ],
    ['null as the store', { store: null }, /option store must be a store object, not null/],
  ]
  for (const [what, options, message] of invalid) {
    it(`rejects ${what} at construction with ERR_OPTIONS`, () => {
      expect(make(options)).toThrow(
        expect.objectContaining({ code: 'ERR_OPTIONS', message: expect.stringMatching(message) }),
      )
    })
  }

  it("accepts secure: 'auto' with SameSite Lax or Strict, and trustProxy with it", () => {
    expect(make({ cookie: { secure: 'auto' } })).not.toThrow()
    expect(make({ cookie: { secure: 'auto', sameSite: 'strict' }, trustProxy: true })).not.toThrow()
  })

  it('accepts SameSite=None with Secure and Partitioned', () => {
    expect(make({ cookie: { sameSite: 'none', secure: true, partitioned: true } })).not.toThrow()
  })
})

describe('SessionManager options: cookie prefixes', () => {
  it('accepts __Host- with Secure, Path=/ and no Domain, and __Secure- with Secure', () => {
    expect(
      new SessionManager({ cookie: { name: '__Host-session', secure: true } }).cookieName,
    ).toBe('__Host-session')
    expect(
      new SessionManager({
        cookie: { name: '__Secure-session', secure: true, domain: 'example.com' },
      }).cookieName,
    ).toBe('__Secure-session')
  })
})
