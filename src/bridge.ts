import type { Session } from './session.js'

/**
 * Another session library's sessions, read so that their users move over without signing in
 * again (`expressSessionBridge` from `sessionkit/express-session` is one). The manager asks it
 * only on requests that carry no session token of its own.
 */
export interface SessionBridge {
  /** The old session id a request's Cookie header names, when its signature verifies; no I/O. */
  idOf(cookieHeader: string | undefined): string | undefined
  /** The old session's values, without the old library's own bookkeeping; undefined when it has none. */
  read(id: string): Promise<Record<string, unknown> | undefined>
  /** Removes the old session from the old store, once its values are committed here. */
  destroy(id: string): Promise<void>
  /** The Set-Cookie values that delete the old cookie in the browser. */
  readonly clearCookies: readonly string[]
}

/** @internal What a session moved over by a bridge still has to do once it is committed. */
export interface Bridged {
  /**
   * After the commit (`token`), or a logout (undefined): removes the old session and gives the
   * Set-Cookie values to add.
   */
  finish(token: string | undefined): Promise<readonly string[]>
  /** The session was not committed: another request may move the old one. */
  abandon(): void
}

// How long a second request carrying the same old cookie waits for the first to commit its move.
const WAIT_MS = 5_000
// How long a finished move is remembered, for requests the browser sent before its new cookie
// arrived (they get the moved session, not a new empty one whose cookie would sign the user out).
// Short: until then the old cookie still opens the session, as it did a moment before.
const REMEMBER_MS = 10_000

/**
 * @internal Runs a bridge for one manager: each old session is moved once per process, and a
 * request that arrives while another request moves the same old session waits for that move and
 * gets the new session instead of starting one of its own.
 */
export class BridgeRunner {
  readonly #bridge: SessionBridge
  readonly #moves = new Map<string, Promise<string | undefined>>()

  constructor(bridge: SessionBridge) {
    this.#bridge = bridge
  }

  /** The old library's session id from a request's Cookie header once its cookie is verified, else undefined. */
  idOf(header: string | undefined): string | undefined {
    return header === undefined ? undefined : this.#bridge.idOf(header)
  }

  /**
   * The session for a request with no token of the manager's whose old-library cookie carries
   * the verified `id` (from {@link BridgeRunner.idOf}): the old session's values in a fresh
   * session (`fresh()`, flagged so its commit finishes the move), the session another request
   * moved it into (`load(token)`), or undefined when there is nothing to move.
   */
  async load<S extends Session<object>>(
    id: string,
    fresh: () => S,
    load: (token: string) => Promise<S>,
    flag: (session: S, bridged: Bridged) => void,
  ): Promise<S | undefined> {
    const moving = this.#moves.get(id)
    if (moving !== undefined) {
      const token = await Promise.race([moving, delay(WAIT_MS)])
      if (token !== undefined) return load(token)
    }
    let settle: (token: string | undefined) => void = () => {}
    const move = new Promise<string | undefined>((resolve) => {
      settle = resolve
    })
    this.#moves.set(id, move)
    const forget = (): void => {
      if (this.#moves.get(id) === move) this.#moves.delete(id)
    }
    let values: Record<string, unknown> | undefined
    try {
      values = await this.#bridge.read(id)
    } catch (err) {
      settle(undefined)
      forget()
      throw err
    }
    if (values === undefined) {
      settle(undefined)
      forget()
      return undefined
    }
    const session = fresh()
    for (const [key, value] of Object.entries(values)) {
      ;(session as unknown as Session<Record<string, unknown>>).put(key, value)
    }
    flag(session, {
      finish: async (token) => {
        settle(token)
        if (token === undefined) forget()
        else setTimeout(forget, REMEMBER_MS).unref()
        try {
          await this.#bridge.destroy(id)
        } catch (err) {
          // The new session is committed and the old cookie goes; a row left in the old store
          // expires there. Said, not thrown: the user is signed in.
          console.error('sessionkit: the bridge could not remove the old session:', err)
        }
        return this.#bridge.clearCookies
      },
      abandon: () => {
        settle(undefined)
        forget()
      },
    })
    return session
  }
}

const delay = (ms: number): Promise<undefined> =>
  new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref())
