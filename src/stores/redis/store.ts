import { StoreError } from '../../errors.js'
import type {
  CommitMode,
  CompareAndSetStore,
  DeviceInfo,
  EndingStore,
  EndReason,
  IterableStore,
  OwnedSession,
  OwnerIndexStore,
  TouchStore,
} from '../../store.js'
import { toEndReason } from '../../store.js'
import { toBytes as bytesOf, toBuffer } from '../kit/bytes.js'
import { checkOptionKeys, positiveInteger, positiveMs } from '../kit/options.js'
import { withTimeout } from '../kit/timeout.js'
import type { NodeSend, RedisClient, RedisConnection } from './client.js'
import { redisConnection } from './client.js'
import { clusterKeys, globEscape } from './cluster.js'
import { answered, toRedisStoreError } from './errors.js'
import {
  DEFAULT_REDIS_PREFIX,
  ENDED_KEY_PREFIX,
  endedKeyOf,
  hashTagOf,
  OWNER_KEY_PREFIX,
} from './keys.js'
import type { OwnedEntry, Script } from './scripts.js'
import { END, REPLACE, TOUCH_OWNED } from './scripts.js'
import type { RedisStoreOptions } from './types.js'

// A reply's bytes: nil is no value.
function toBytes(value: unknown): Uint8Array | undefined {
  return value === null || value === undefined ? undefined : bytesOf(value)
}

/**
 * A session store on Redis, key-compatible with Go's redisstore and goredisstore: each session is
 * the key `scs:session:<token>` holding the codec's bytes, and Redis expires it itself. A key is
 * never written without a TTL (`SET … PX`); an expiry already past deletes it. Commits in mode
 * `'update'` use `SET … XX` and in mode `'insert'` `SET … NX`, so a slow request cannot bring back
 * a destroyed session. `all()` walks the keys with SCAN, never KEYS.
 *
 * A cluster client (node-redis `createCluster`, ioredis `Cluster`) works the same: every command
 * touches one slot, reads go to masters, `all()` walks every master (see `clusterKeys`), and after
 * a failover the store makes node-redis reload its slot map, which it would not do by itself.
 *
 * Every operation settles within `timeout`: a dead or unreachable server gives a StoreError (its
 * `cause` is the driver's error) instead of a request waiting in the client's offline queue, and
 * the store recovers as soon as the client reconnects. The message ends "(transient: …)" for such
 * failures and "(permanent: …)" with what to fix when Redis refuses the setup. A command still
 * queued when its timeout fires may be sent after the reconnect; turn the offline queue off
 * (node-redis `disableOfflineQueue: true`, ioredis `enableOfflineQueue: false`) to have it fail
 * at once instead. Attach `client.on('error', …)`: both node-redis and ioredis emit `error` on a
 * lost connection, and an unhandled `error` event ends the process. The store never connects or
 * quits the client; that stays the caller's job.
 *
 * @example
 * const client = createClient({ url: process.env.REDIS_URL })
 * client.on('error', (err) => console.error('redis:', err.message))
 * await client.connect()
 * const sessions = new SessionManager({ store: new RedisStore(client) })
 */
export class RedisStore
  implements TouchStore, CompareAndSetStore, EndingStore, OwnerIndexStore, IterableStore, Disposable
{
  readonly #conn: RedisConnection
  readonly #prefix: string
  readonly #timeout: number
  readonly #scanCount: string
  readonly #waitForReplicas: number
  #closed = false

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    checkOptionKeys('RedisStore', options, OPTION_NAMES)
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX
    if (typeof prefix !== 'string') {
      throw new TypeError(`RedisStore: prefix must be a string, got ${typeof prefix}`)
    }
    const timeout = positiveMs('RedisStore', 'timeout', options.timeout, 2_000)
    const scanCount = positiveInteger('RedisStore', 'scanCount', options.scanCount, 100)
    this.#prefix = prefix
    this.#timeout = timeout
    this.#scanCount = String(scanCount)
    const waitForReplicas = options.waitForReplicas ?? 0
    if (!Number.isSafeInteger(waitForReplicas) || waitForReplicas < 0) {
      throw new RangeError(
        `RedisStore: waitForReplicas must be a whole number of replicas, got ${waitForReplicas}`,
      )
    }
    this.#waitForReplicas = waitForReplicas
    this.#conn = redisConnection(client)
    if (this.#conn.masters !== undefined) {
      // A key without a tag is wrapped whole as the marker's tag, which a '}' in it would cut
      // short. Tokens hold no braces, so the prefix decides.
      if (hashTagOf(`${prefix}token`) === undefined && prefix.includes('}')) {
        throw new TypeError(
          `RedisStore: on Redis Cluster the prefix ${JSON.stringify(prefix)} has a '}' but no hash tag, so a session's ended-marker could not share its slot; use a prefix without braces, or with a tag such as '{app}:session:'`,
        )
      }
    }
  }

  /** The prefix in front of every key. */
  get prefix(): string {
    return this.#prefix
  }

  async find(key: string): Promise<Uint8Array | undefined> {
    return toBytes(await this.#run('find', ['GET', this.#prefix + key]))
  }

  async commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode): Promise<boolean> {
    const redisKey = this.#prefix + key
    const ttl = ttlOf(expiry)
    if (ttl <= 0) {
      // Writing an expiry in the past means the key must not be findable: delete, never SET.
      if (mode === 'insert') return (await this.#run('commit', ['EXISTS', redisKey])) === 0
      const removed = await this.#run('commit', ['DEL', redisKey])
      return mode === 'update' ? Number(removed) > 0 : true
    }
    const args: Array<string | Buffer> = ['SET', redisKey, toBuffer(data), 'PX', String(ttl)]
    if (mode === 'insert') args.push('NX')
    else if (mode === 'update') args.push('XX')
    return (await this.#run('commit', args)) !== null
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', ['DEL', this.#prefix + key])
  }

  /** Moves a live key's TTL without rewriting its data (PEXPIRE; a past expiry deletes it); false when the key is gone. */
  async touch(key: string, expiry: Date): Promise<boolean> {
    const ttl = Math.max(ttlOf(expiry), 0)
    return Number(await this.#run('touch', ['PEXPIRE', this.#prefix + key, String(ttl)])) === 1
  }

  /** Compare-and-set on the stored bytes in one server-side script (see `Store#replace`). */
  async replace(
    key: string,
    expected: Uint8Array,
    data: Uint8Array,
    expiry: Date,
  ): Promise<true | Uint8Array | undefined> {
    const reply = await this.#eval(
      'commit',
      REPLACE,
      [this.#prefix + key],
      [toBuffer(expected), toBuffer(data), String(ttlOf(expiry))],
    )
    if (reply === null || reply === undefined) return undefined
    if (typeof reply === 'number' || typeof reply === 'bigint') return true
    return toBytes(reply)
  }

  /** Deletes `key` and, when it was live, remembers it as ended until `until`, in one server-side script (see `Store#end`). */
  async end(key: string, reason: EndReason, until: Date): Promise<Uint8Array | undefined> {
    const redisKey = this.#prefix + key
    const reply = await this.#eval(
      'end',
      END,
      [redisKey, endedKeyOf(redisKey)],
      [reason, String(ttlOf(until))],
    )
    return toBytes(reply)
  }

  /** Why `key` was ended, while its marker lives (see `Store#ended`). */
  async ended(key: string): Promise<EndReason | undefined> {
    const reason = toBytes(await this.#run('ended', ['GET', endedKeyOf(this.#prefix + key)]))
    return toEndReason(reason === undefined ? undefined : Buffer.from(reason).toString())
  }

  /**
   * Files `key` under `owner` (see `Store#setOwner`): one hash per owner, field = session key,
   * value = its details, so every command touches one key (one slot on Redis Cluster). It leaves
   * the previous owner's hash first: an interrupted move lists the session nowhere, never twice.
   */
  async setOwner(
    key: string,
    owner: string | undefined,
    previous: string | undefined,
    device: DeviceInfo,
    at: Date,
  ): Promise<void> {
    if (previous !== undefined) await this.#run('setOwner', ['HDEL', this.#ownerKey(previous), key])
    if (owner === undefined) return
    const entry: OwnedEntry = { c: at.getTime(), s: at.getTime() }
    if (device.userAgent !== undefined) entry.ua = device.userAgent
    if (device.ip !== undefined) entry.ip = device.ip
    await this.#run('setOwner', ['HSET', this.#ownerKey(owner), key, JSON.stringify(entry)])
  }

  /**
   * The live sessions filed under `owner` (see `Store#listOwned`): the owner's hash, then each
   * session's remaining TTL; an entry whose session is gone (expired, destroyed, deleted by Go)
   * is not listed and is removed from the hash.
   */
  async listOwned(owner: string): Promise<OwnedSession[]> {
    const hash = this.#ownerKey(owner)
    const flat = ((await this.#run('listOwned', ['HGETALL', hash])) as unknown[]) ?? []
    const pairs: [string, string][] = []
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), String(flat[i + 1])])
    const now = Date.now()
    const ttls = await Promise.all(
      pairs.map(([key]) => this.#run('listOwned', ['PTTL', this.#prefix + key])),
    )
    const out: OwnedSession[] = []
    const gone: string[] = []
    pairs.forEach(([key, json], i) => {
      const ttl = Number(ttls[i])
      let entry: OwnedEntry | undefined
      try {
        entry = JSON.parse(json) as OwnedEntry
      } catch {
        entry = undefined
      }
      if (!(ttl > 0) || entry === undefined) {
        gone.push(key)
        return
      }
      const owned: OwnedSession = {
        key,
        createdAt: new Date(entry.c),
        lastSeenAt: new Date(entry.s),
        expiresAt: new Date(now + ttl),
      }
      if (entry.ua !== undefined) owned.userAgent = entry.ua
      if (entry.ip !== undefined) owned.ip = entry.ip
      out.push(owned)
    })
    if (gone.length > 0) await this.#run('listOwned', ['HDEL', hash, ...gone])
    return out
  }

  /** Moves an indexed session's last-seen time (see `Store#touchOwned`), in one script on the owner's hash. */
  async touchOwned(key: string, owner: string, at: Date): Promise<void> {
    await this.#eval(
      'touchOwned',
      TOUCH_OWNED,
      [this.#ownerKey(owner)],
      [key, String(at.getTime())],
    )
  }

  #ownerKey(owner: string): string {
    return `${OWNER_KEY_PREFIX}{${this.#prefix}${owner}}`
  }

  /**
   * Every live session under the prefix, keyed without it. On one server: SCAN then MGET, page by
   * page. On a cluster: every master is walked (see `clusterKeys`; slots that move meanwhile are
   * read again) and each key is read from its slot's master; the call rejects rather than return
   * part of the sessions.
   */
  async all(): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>()
    const add = (key: string, value: unknown) => {
      const data = toBytes(value)
      // A key that expired between SCAN and the read is simply not live any more.
      if (data !== undefined) out.set(key.slice(this.#prefix.length), data)
    }
    if (this.#conn.masters !== undefined) {
      const keys = [...(await this.#clusterKeys(this.#conn.masters))]
      const page = Number(this.#scanCount)
      for (let i = 0; i < keys.length; i += page) {
        const slice = keys.slice(i, i + page)
        // One GET per key: keys of a page lie in many slots, and MGET must stay in one.
        const values = await Promise.all(slice.map((k) => this.#run('all', ['GET', k])))
        for (let j = 0; j < slice.length; j++) add(slice[j] as string, values[j])
      }
      return out
    }
    const match = `${globEscape(this.#prefix)}*`
    let cursor = '0'
    do {
      const reply = (await this.#run('all', [
        'SCAN',
        cursor,
        'MATCH',
        match,
        'COUNT',
        this.#scanCount,
      ])) as [unknown, unknown[]]
      cursor = String(reply[0])
      const keys = reply[1].map(String).filter(isSession)
      if (keys.length === 0) continue
      const values = (await this.#run('all', ['MGET', ...keys])) as unknown[]
      for (let i = 0; i < keys.length; i++) add(keys[i] as string, values[i])
    } while (cursor !== '0')
    return out
  }

  async #clusterKeys(masters: () => Promise<NodeSend[]>): Promise<Set<string>> {
    this.#refuseWhenClosed('all')
    try {
      const nodes = (await masters()).map(
        (send): NodeSend =>
          (args) =>
            withTimeout(send(args), this.#timeout, 'a Redis Cluster master'),
      )
      return await clusterKeys(nodes, this.#prefix, this.#scanCount, isSession)
    } catch (err) {
      if (!answered(err)) this.#conn.recover(undefined)
      throw toRedisStoreError(err, 'all', true)
    }
  }

  /**
   * Refuses further calls. Idempotent and never blocks; there is no cleanup timer (Redis expires
   * keys itself) and the client stays open, since it belongs to the caller.
   */
  close(): void {
    this.#closed = true
  }

  [Symbol.dispose](): void {
    this.close()
  }

  // EVALSHA first; a server that has not seen the script (new, restarted, flushed) gets it whole.
  async #eval(
    operation: string,
    lua: Script,
    keys: string[],
    args: Array<string | Buffer>,
  ): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args]
    try {
      return await this.#run(operation, ['EVALSHA', lua.sha, ...tail])
    } catch (err) {
      if (!String((err as StoreError).cause ?? err).includes('NOSCRIPT')) throw err
      return this.#run(operation, ['EVAL', lua.source, ...tail])
    }
  }

  #refuseWhenClosed(operation: string): void {
    if (this.#closed) {
      throw new StoreError(`RedisStore ${operation} failed: the store is closed; create a new one`)
    }
  }

  async #run(operation: string, args: Array<string | Buffer>): Promise<unknown> {
    this.#refuseWhenClosed(operation)
    const cluster = this.#conn.masters !== undefined
    let reply: unknown
    try {
      reply = await withTimeout(this.#conn.send(args), this.#timeout, 'Redis')
    } catch (err) {
      // A node that stopped answering may have been replaced by its replica: a cluster client
      // that does not notice by itself is told to reload its slot map.
      if (!answered(err)) this.#conn.recover(args)
      throw toRedisStoreError(err, operation, cluster)
    }
    if (this.#waitForReplicas > 0 && WRITES.has(args[0] as string)) {
      try {
        await this.#replicated(args)
      } catch (err) {
        // Not a lost node: the master answered, its replicas did not confirm in time.
        throw toRedisStoreError(err, operation, cluster)
      }
    }
    return reply
  }

  // WAIT on the connection that carried the write, so it counts the replicas that have it.
  async #replicated(args: Array<string | Buffer>): Promise<void> {
    const wanted = this.#waitForReplicas
    const ms = Math.max(1, Math.floor(this.#timeout / 2))
    const reply = await withTimeout(
      this.#conn.waitForReplicas(args, wanted, ms),
      this.#timeout,
      'Redis',
    )
    const acked = Number(reply)
    if (acked < wanted) {
      throw new Error(
        `the write reached the master, but ${acked} of ${wanted} replicas confirmed it within ${ms} ms (waitForReplicas)`,
      )
    }
  }
}

// Under an empty prefix SCAN also meets the ended-session markers and owner hashes: not sessions.
const isSession = (key: string): boolean =>
  !key.startsWith(ENDED_KEY_PREFIX) && !key.startsWith(OWNER_KEY_PREFIX)

// The commands that change data; scripts all do.
const WRITES = new Set(['SET', 'DEL', 'PEXPIRE', 'EVALSHA', 'EVAL', 'HSET', 'HDEL'])

// Relative TTL on the app clock, like goredisstore: immune to skew between app and Redis clocks.
function ttlOf(expiry: Date): number {
  const ms = expiry.getTime()
  if (Number.isNaN(ms)) throw new TypeError('RedisStore: expiry is an invalid Date')
  return Math.ceil(ms - Date.now())
}

const OPTION_NAMES = [
  'prefix',
  'timeout',
  'scanCount',
  'waitForReplicas',
] as const satisfies readonly (keyof RedisStoreOptions)[]
