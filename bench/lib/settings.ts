/** What every contender serves and how its cookie looks, so the servers differ only in library. */
export const MESSAGE = 'Hello from a session!'

/** The body of `/bare`: a constant that never touches a session. */
export const BARE_BODY = 'ok'

/** The session cookie's name for every contender. */
export const COOKIE_NAME = 'session'

/** Session lifetime for every contender: 24 hours, in ms. */
export const LIFETIME_MS = 24 * 60 * 60 * 1000

/** express-session's signing secret; sessionkit's cookie carries a random token instead. */
export const SECRET = 'sessionkit-bench-secret'

/** express-session's cookie options, matching sessionkit's defaults (HttpOnly, Lax, Path=/, 24 h). */
export const EXPRESS_SESSION_COOKIE = {
  httpOnly: true,
  sameSite: 'lax' as const,
  path: '/',
  secure: false,
  maxAge: LIFETIME_MS,
}
