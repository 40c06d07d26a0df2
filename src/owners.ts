import { createHash } from 'node:crypto'
import type { OwnedSession } from './store.js'

/** An owner value: the string or number under the manager's `owner` key. */
export type Owner = string | number

/** One of an owner's live sessions, as `SessionManager#listOwned` reports it; never the token. */
export interface SessionInfo {
  /** An opaque handle for `revoke`: it cannot be turned into the token, nor used as a cookie. */
  id: string
  /** True for the session passed as `current`. */
  current?: boolean
  createdAt: Date
  lastSeenAt: Date
  expiresAt: Date
  userAgent?: string
  ip?: string
}

/** The index's spelling of an owner value: a string, or undefined for no owner (any other type). */
export function ownerOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}

/** The handle of a store key: a truncated SHA-256 under its own label, so it leaks nothing usable. */
export function handleOf(key: string): string {
  return createHash('sha256')
    .update('sessionkit.handle\0')
    .update(key)
    .digest('base64url')
    .slice(0, 22)
}

/** A store's index row as the SessionInfo an application sees. */
export function toSessionInfo(owned: OwnedSession, currentKey: string | undefined): SessionInfo {
  const info: SessionInfo = {
    id: handleOf(owned.key),
    createdAt: owned.createdAt,
    lastSeenAt: owned.lastSeenAt,
    expiresAt: owned.expiresAt,
  }
  if (currentKey !== undefined && owned.key === currentKey) info.current = true
  if (owned.userAgent !== undefined) info.userAgent = owned.userAgent
  if (owned.ip !== undefined) info.ip = owned.ip
  return info
}

// lastSeenAt moves at most once a minute per session: a read costs a write only that often.
const SEEN_EVERY_MS = 60_000
const SEEN_MEMORY = 10_000

/** Remembers when this process last moved each session's lastSeenAt, so it does so once a minute. */
export class SeenThrottle {
  readonly #last = new Map<string, number>()

  /** True when `key`'s last-seen time is due to move at `now` (and notes that it moved). */
  due(key: string, now: number): boolean {
    const last = this.#last.get(key)
    if (last !== undefined && now - last < SEEN_EVERY_MS) return false
    // Bounded: forgetting costs at most one early write per session.
    if (this.#last.size >= SEEN_MEMORY) this.#last.clear()
    this.#last.set(key, now)
    return true
  }
}
