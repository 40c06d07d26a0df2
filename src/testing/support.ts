import type { Session, SessionManager } from '../index.js'

/** Session data in the suite's scenarios: numbers under short keys. */
export type Data = Record<string, number>

/** The bytes of `s` in UTF-8. */
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** `b` decoded as UTF-8, or undefined for no bytes. */
export const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)

/** A moment `m` minutes from now (negative: in the past). */
export const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)

/**
 * An expiry already past. Expiry is checked with such dates, never by sleeping, because SQL and
 * Redis stores judge liveness on the server's own clock.
 */
export const past = (): Date => new Date(Date.now() - 5_000)

/** The session a request would see, as a plain object, for comparing with the expected state. */
export const plain = (s: Session<Data>): Data =>
  Object.fromEntries(s.keys().map((k) => [k, s.get(k) as number]))

/** Stores a new session holding `values` and resolves its token. */
export async function seeded(sessions: SessionManager<Data>, values: Data): Promise<string> {
  const s = await sessions.load('')
  for (const [k, v] of Object.entries(values)) s.put(k, v)
  return (await sessions.commit(s)).token
}

let run = 0
/** An owner unique to this process and call, so stores shared across test files never mix them. */
export const ownerName = (): string => `owner-${process.pid}-${Date.now()}-${run++}`
