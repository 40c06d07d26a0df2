import { parse, serialize } from 'cookie'
import { unsign } from 'cookie-signature'
import type { SessionBridge } from '../bridge.js'
import { StoreError } from '../errors.js'

/**
 * The part of an express-session `Store` the bridge calls (connect-redis, connect-pg-simple,
 * connect-sqlite3, better-sqlite3-session-store, MemoryStore and the rest all have it).
 */
export interface ExpressSessionStore {
  get(sid: string, callback: (err: unknown, session?: object | null) => void): void
  destroy(sid: string, callback?: (err?: unknown) => void): void
}

/** Options for {@link expressSessionBridge}: what the app gave express-session. */
export interface ExpressSessionBridgeOptions {
  /** The app's express-session store. */
  store: ExpressSessionStore
  /** express-session's `secret`: one, or a list (every one verifies, as express-session does). */
  secret: string | readonly string[]
  /** express-session's cookie `name`. @default 'connect.sid' */
  name?: string
  /** The old cookie's Path and Domain, so the deletion reaches it. @default { path: '/' } */
  cookie?: { path?: string; domain?: string }
}

/**
 * A bridge (the manager's `bridge` option) that moves express-session users over signed in: a
 * request with a validly signed express-session cookie and no sessionkit cookie gets the old
 * session's data (without express-session's `cookie` field) in a new sessionkit session, which
 * the response commits and sends; the same response deletes the old cookie, and the old session
 * is destroyed in its store. A forged or unsigned cookie is ignored, never looked up.
 *
 * @example
 * new SessionManager({ store, bridge: expressSessionBridge({ store: oldStore, secret: process.env.SESSION_SECRET }) })
 */
export function expressSessionBridge(options: ExpressSessionBridgeOptions): SessionBridge {
  const { store } = options
  if (typeof store?.get !== 'function' || typeof store.destroy !== 'function') {
    throw new TypeError(
      'expressSessionBridge: store must be an express-session Store (get, destroy)',
    )
  }
  const secrets =
    typeof options.secret === 'string' ? [options.secret] : [...(options.secret ?? [])]
  if (secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s !== '')) {
    throw new TypeError(
      'expressSessionBridge: secret must be a non-empty string or a list of them, as given to express-session',
    )
  }
  const name = options.name ?? 'connect.sid'
  const path = options.cookie?.path ?? '/'
  const clear = serialize(name, '', {
    path,
    ...(options.cookie?.domain === undefined ? {} : { domain: options.cookie.domain }),
    expires: new Date(0),
  })
  return {
    idOf(header) {
      if (header === undefined || !header.includes(name)) return undefined
      const raw = parse(header)[name]
      // express-session signs as "s:" + sid + "." + HMAC; anything else it would not accept either.
      if (raw === undefined || !raw.startsWith('s:')) return undefined
      for (const secret of secrets) {
        const sid = unsign(raw.slice(2), secret)
        if (sid !== false) return sid
      }
      return undefined
    },
    read(id) {
      return new Promise((resolve, reject) => {
        store.get(id, (err, session) => {
          if (err) {
            reject(
              new StoreError(
                `expressSessionBridge: the express-session store failed to read a session: ${String(err)}`,
                { cause: err },
              ),
            )
            return
          }
          if (session == null) {
            resolve(undefined)
            return
          }
          // express-session's own bookkeeping: the cookie's settings, not the app's data.
          const { cookie: _cookie, ...values } = session as Record<string, unknown>
          resolve(values)
        })
      })
    },
    destroy(id) {
      return new Promise((resolve, reject) => {
        store.destroy(id, (err) => (err ? reject(err) : resolve()))
      })
    },
    clearCookies: [clear],
  }
}
