import type { RefusedReason, Session } from './session.js'

/** What each lifecycle event a manager reports carries, by event name. */
export interface SessionEvents<Data extends object> {
  /** A new session was first written to the store (its token is new). */
  created: { session: Session<Data> }
  /** A session renewed with `renewToken` (a sign-in, say) was written under its new token. */
  renewed: { session: Session<Data> }
  /** A stored session was destroyed (a logout); the session still holds its values in the listener. */
  destroyed: { session: Session<Data> }
  /** `revoke` or `revokeOwned` ended one of an owner's sessions. */
  revoked: { owner: string; id: string }
  /** A store's cleanup removed expired sessions (stores that sweep: Memory, SQLite, Postgres). */
  expired: { count: number }
  /**
   * A request's changes were dropped because its session ended elsewhere (renewed or destroyed
   * by another request): its commit wrote nothing and its response sent no Set-Cookie.
   */
  refused: { reason: RefusedReason; session: Session<Data> }
}

/** A listener for one event of {@link SessionEvents}. */
export type SessionListener<Data extends object, E extends keyof SessionEvents<Data>> = (
  event: SessionEvents<Data>[E],
) => void

/**
 * @internal The manager's listeners. A listener that throws is logged and never reaches the
 * request that emitted the event.
 */
export class Listeners<Data extends object> {
  readonly #byEvent = new Map<string, Set<(event: never) => void>>()

  on<E extends keyof SessionEvents<Data>>(
    event: E,
    listener: SessionListener<Data, E>,
  ): () => void {
    let set = this.#byEvent.get(event)
    if (set === undefined) {
      set = new Set()
      this.#byEvent.set(event, set)
    }
    // A Set would merge two subscriptions of one function; a wrapper keeps them apart.
    const entry = (e: never): void => listener(e)
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  emit<E extends keyof SessionEvents<Data>>(event: E, payload: SessionEvents<Data>[E]): void {
    const set = this.#byEvent.get(event)
    if (set === undefined || set.size === 0) return
    for (const listener of [...set]) {
      try {
        ;(listener as (e: SessionEvents<Data>[E]) => void)(payload)
      } catch (err) {
        console.error(`sessionkit: a "${event}" listener threw:`, err)
      }
    }
  }
}
