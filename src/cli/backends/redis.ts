import type { RedisConnection } from '../../stores/redis/client.js'
import { redisConnection } from '../../stores/redis/client.js'
import { clusterKeys } from '../../stores/redis/cluster.js'
import type { NodeRedisClient, NodeRedisClusterClient } from '../../stores/redis/index.js'
import {
  DEFAULT_REDIS_PREFIX,
  globEscape,
  OWNER_KEY_PREFIX,
  RedisStore,
} from '../../stores/redis/index.js'
import {
  type Backend,
  codecOf,
  revokeLive,
  type StoredSession,
  type StoreStats,
  writeThrough,
} from '../backend.js'
import { peer, redact } from '../open.js'

interface Connection {
  connect(): Promise<unknown>
  close?(): Promise<unknown>
  quit?(): Promise<unknown>
  on(event: 'error', listener: (err: unknown) => void): unknown
}

type Socket = { connectTimeout: number; reconnectStrategy: false }

interface NodeRedis {
  createClient(options: { url: string; socket: Socket }): NodeRedisClient & Connection
  createCluster(options: {
    rootNodes: { url: string }[]
    defaults: { socket: Socket; username?: string; password?: string }
  }): NodeRedisClusterClient & Connection
}

const PAGE = 500
const SOCKET: Socket = { connectTimeout: 5_000, reconnectStrategy: false }

/**
 * Connects to the Redis at `url` with a node-redis client of its own (5 s to connect); a node of
 * a Redis Cluster (INFO says cluster_enabled) is reached through a cluster client instead, so
 * every command finds its slot's master and the listings cover every master.
 */
export async function openRedisBackend(
  url: string,
  options: { prefix?: string },
): Promise<Backend> {
  const redis = await peer<NodeRedis>('redis', 'Redis')
  let client: (NodeRedisClient | NodeRedisClusterClient) & Connection = redis.createClient({
    url,
    socket: SOCKET,
  })
  // Reported through the failing command; a listener keeps it from being an unhandled 'error'.
  client.on('error', () => {})
  await client.connect()
  const info = String(await (client as NodeRedisClient).sendCommand(['INFO', 'cluster']))
  if (/cluster_enabled:1/.test(info)) {
    await (client.close?.() ?? client.quit?.())
    const { username, password } = new URL(url)
    const defaults: { socket: Socket; username?: string; password?: string } = { socket: SOCKET }
    if (username !== '') defaults.username = decodeURIComponent(username)
    if (password !== '') defaults.password = decodeURIComponent(password)
    client = redis.createCluster({ rootNodes: [{ url }], defaults })
    client.on('error', () => {})
    await client.connect()
  }
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX
  const store = new RedisStore(client, { prefix, timeout: 30_000 })
  return new RedisBackend(redact(url), client, store, prefix)
}

class RedisBackend implements Backend {
  readonly name: string
  readonly #client: Connection
  readonly #conn: RedisConnection
  readonly #store: RedisStore
  readonly #prefix: string

  constructor(
    name: string,
    client: (NodeRedisClient | NodeRedisClusterClient) & Connection,
    store: RedisStore,
    prefix: string,
  ) {
    this.name = `${name} (prefix ${prefix})`
    this.#client = client
    this.#conn = redisConnection(client)
    this.#store = store
    this.#prefix = prefix
  }

  // Replies come as bytes (a gob blob is not UTF-8 text); names and numbers are read with String.
  #send(args: string[]): Promise<unknown> {
    return this.#conn.send(args)
  }

  async #bytes(key: string): Promise<Uint8Array | undefined> {
    const reply = await this.#send(['GET', key])
    return reply instanceof Uint8Array ? reply : undefined
  }

  // Every key under `prefix`, page by page (SCAN, never KEYS); on a cluster, of every master.
  async *#scan(prefix: string): AsyncIterable<string[]> {
    const masters = this.#conn.masters
    if (masters !== undefined) {
      const keys = [...(await clusterKeys(await masters(), prefix, String(PAGE), () => true))]
      for (let i = 0; i < keys.length; i += PAGE) yield keys.slice(i, i + PAGE)
      return
    }
    let cursor = '0'
    do {
      const [next, keys] = (await this.#send([
        'SCAN',
        cursor,
        'MATCH',
        `${globEscape(prefix)}*`,
        'COUNT',
        String(PAGE),
      ])) as [string, string[]]
      cursor = String(next)
      if (keys.length > 0) yield keys.map(String)
    } while (cursor !== '0')
  }

  // The owner index as key → owner: one hash per owner, its fields the session keys.
  async #ownersByKey(): Promise<Map<string, string>> {
    const byKey = new Map<string, string>()
    const head = `${OWNER_KEY_PREFIX}{${this.#prefix}`
    for await (const hashes of this.#scan(head)) {
      for (const hash of hashes) {
        const owner = hash.slice(head.length, -1)
        for (const key of (await this.#send(['HKEYS', hash])) as string[])
          byKey.set(String(key), owner)
      }
    }
    return byKey
  }

  // Sessions with their bytes and time to live, one page of keys at a time.
  async *#sessions(): AsyncIterable<StoredSession> {
    for await (const keys of this.#scan(this.#prefix)) {
      const now = Date.now()
      const replies = await Promise.all(
        keys.map(async (k) => [k, await this.#bytes(k), await this.#send(['PTTL', k])] as const),
      )
      for (const [k, data, ttl] of replies) {
        if (data === undefined || Number(ttl) < 0) continue
        yield {
          key: k.slice(this.#prefix.length),
          data,
          expiresAt: new Date(now + Number(ttl)),
        }
      }
    }
  }

  async stats(): Promise<StoreStats> {
    const stats: StoreStats = {
      store: this.name,
      rows: 0,
      live: 0,
      expired: 0,
      dataBytes: 0,
      codecs: {},
    }
    let oldest = Number.POSITIVE_INFINITY
    let newest = Number.NEGATIVE_INFINITY
    for await (const s of this.#sessions()) {
      stats.rows++
      stats.live++
      stats.dataBytes += s.data.length
      const codec = codecOf(s.data)
      stats.codecs[codec] = (stats.codecs[codec] ?? 0) + 1
      oldest = Math.min(oldest, s.expiresAt.getTime())
      newest = Math.max(newest, s.expiresAt.getTime())
    }
    if (stats.rows > 0) {
      stats.oldestExpiry = new Date(oldest)
      stats.newestExpiry = new Date(newest)
    }
    const owners = await this.#ownersByKey()
    if (owners.size > 0)
      stats.owners = { owners: new Set(owners.values()).size, sessions: owners.size }
    return stats
  }

  async *list(options: {
    owner?: string
    limit?: number
    anyOrder?: boolean
  }): AsyncIterable<StoredSession> {
    const owners = await this.#ownersByKey()
    const limit = options.limit ?? Number.POSITIVE_INFINITY
    const all: StoredSession[] = []
    let yielded = 0
    if (limit < 1) return
    for await (const s of this.#sessions()) {
      const owner = owners.get(s.key)
      if (options.owner !== undefined && owner !== options.owner) continue
      const session = owner === undefined ? s : { ...s, owner }
      if (options.anyOrder !== true) {
        all.push(session)
        continue
      }
      // Unsorted, each page goes out as it is read, so a reader that stops early stops the scan.
      yield session
      if (++yielded >= limit) return
    }
    if (options.anyOrder === true) return
    all.sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
    yield* all.slice(0, limit)
  }

  async *keys(): AsyncIterable<string> {
    for await (const keys of this.#scan(this.#prefix)) {
      for (const key of keys) yield key.slice(this.#prefix.length)
    }
  }

  async get(key: string): Promise<StoredSession | undefined> {
    const full = `${this.#prefix}${key}`
    const [data, ttl] = [await this.#bytes(full), await this.#send(['PTTL', full])]
    if (data === undefined || Number(ttl) < 0) return undefined
    const session: StoredSession = {
      key,
      data,
      expiresAt: new Date(Date.now() + Number(ttl)),
    }
    const owner = (await this.#ownersByKey()).get(key)
    if (owner !== undefined) session.owner = owner
    return session
  }

  // Redis deletes expired keys itself: there is never anything to prune.
  async countExpired(): Promise<number> {
    return 0
  }

  async pruneBatch(): Promise<number> {
    return 0
  }

  revoke(key: string): Promise<boolean> {
    return revokeLive(this, this.#store, key)
  }

  async ownedKeys(owner: string): Promise<string[]> {
    return (await this.#store.listOwned(owner)).map((s) => s.key)
  }

  write(session: StoredSession, replace: boolean): Promise<boolean> {
    return writeThrough(this.#store, session, replace)
  }

  async close(): Promise<void> {
    await (this.#client.close?.() ?? this.#client.quit?.())
  }
}
