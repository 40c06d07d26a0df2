import type { Store } from '../store.js'
import { isOwnerIndexStore } from '../store.js'

/** One stored session as the command line sees it: its store key, bytes and expiry. */
export interface StoredSession {
  key: string
  data: Uint8Array
  expiresAt: Date
  /** Whose it is, from the store's owner index, when it is filed there. */
  owner?: string
}

/** What `sessionkit stats` reports; the fields a store cannot know are left out. */
export interface StoreStats {
  store: string
  rows: number
  live: number
  expired: number
  dataBytes: number
  oldestExpiry?: Date
  newestExpiry?: Date
  /** Live and expired rows by the format of their data: `json` (sessionkit) or `gob` (Go SCS). */
  codecs: Record<string, number>
  /** With an owner index: how many owners, and how many sessions are filed under one. */
  owners?: { owners: number; sessions: number }
  /** SQLite only: the file, its WAL and its journal mode. */
  file?: { path: string; bytes: number; walBytes: number; journalMode: string }
}

/**
 * A store opened by the command line, with the connection it opened itself: reads for the
 * reports go straight to the database; writes go through the store, so they obey its contract.
 */
export interface Backend {
  /** `sqlite:…`, `postgres://…` or `redis://…`, with any password removed. */
  readonly name: string
  stats(): Promise<StoreStats>
  /**
   * Live sessions, soonest expiry first, or with `anyOrder` in the store's own order (by key in
   * SQL, so a session an app rewrites meanwhile is read once); only `owner`'s when given; at most
   * `limit`. Read page by page where the store allows: a consumer that stops early stops reading.
   */
  list(options: {
    owner?: string
    limit?: number
    anyOrder?: boolean
  }): AsyncIterable<StoredSession>
  /** The store key of every live session, page by page, in no order: to find a handle's key. */
  keys(): AsyncIterable<string>
  /** The live session under `key`, or undefined. */
  get(key: string): Promise<StoredSession | undefined>
  /** How many expired rows are waiting to be deleted. */
  countExpired(): Promise<number>
  /** Deletes at most `size` expired rows; resolves how many it deleted. */
  pruneBatch(size: number): Promise<number>
  /** Deletes the live session under `key`; resolves whether there was one. */
  revoke(key: string): Promise<boolean>
  /** The keys of `owner`'s live sessions, from the owner index. */
  ownedKeys(owner: string): Promise<string[]>
  /** Writes `session`; unless `replace`, a live session under its key is kept and `false` returned. */
  write(session: StoredSession, replace: boolean): Promise<boolean>
  close(): Promise<void>
}

/** The format a stored blob is in: sessionkit's JSON starts with `{`, Go SCS's gob never does. */
export function codecOf(data: Uint8Array): 'json' | 'gob' {
  return data[0] === 0x7b ? 'json' : 'gob'
}

/**
 * Writes an imported session through `store`, as the manager would: `insert` keeps a live
 * session already under its key (resolving false) unless `replace`; its owner is filed too.
 */
export async function writeThrough(
  store: Store,
  session: StoredSession,
  replace: boolean,
): Promise<boolean> {
  const mode = replace ? undefined : 'insert'
  const written = await store.commit(session.key, session.data, session.expiresAt, mode)
  if (written && session.owner !== undefined && isOwnerIndexStore(store)) {
    await store.setOwner(session.key, session.owner, undefined, {}, new Date())
  }
  return written
}

/** Deletes the session under `key` through `store` when `backend` finds it live; resolves whether it was. */
export async function revokeLive(
  backend: Pick<Backend, 'get'>,
  store: Pick<Store, 'delete'>,
  key: string,
): Promise<boolean> {
  const live = (await backend.get(key)) !== undefined
  if (live) await store.delete(key)
  return live
}

/** The keys of the sessions `backend` lists under `owner`. */
export async function listedKeys(backend: Pick<Backend, 'list'>, owner: string): Promise<string[]> {
  const keys: string[] = []
  for await (const s of backend.list({ owner })) keys.push(s.key)
  return keys
}
