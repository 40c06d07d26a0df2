import { StoreError } from '../errors.js'
import type { CommitMode, IterableStore } from '../store.js'
import { withTimeout } from './timeout.js'

/** The per-command options the store passes to node-redis (v5 reads `typeMapping`, v4 `returnBuffers`), so values come back as bytes. */
export interface NodeRedisCommandOptions {
  typeMapping?: Record<number, unknown>
  returnBuffers?: boolean
}

/** The one method the store calls on a node-redis client (`createClient()` from `redis`): `sendCommand`. */
export interface NodeRedisClient {
  sendCommand(args: Array<string | Buffer>, options?: NodeRedisCommandOptions): Promise<unknown>
}

/** The one method the store calls on an ioredis client (`new Redis()`): `callBuffer`. */
export interface IORedisClient {
  callBuffer(command: string, args: Array<string | Buffer | number>): Promise<unknown>
}

/** A client the store accepts: node-redis v5 or v4 (the same `sendCommand` call) or ioredis 5. */
export type RedisClient = NodeRedisClient | IORedisClient

/** Options for {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Prepended to every key; SCS's redisstore and goredisstore use the same. @default 'scs:session:' */
  prefix?: string
  /** How long one operation may take before it rejects with a StoreError, in ms. @default 2_000 */
  timeout?: number
  /** Keys asked of each SCAN step by `all()`. @default 100 */
  scanCount?: number
}

/** The default key prefix, the one Go's redisstore and goredisstore use. */
export const DEFAULT_REDIS_PREFIX = 'scs:session:'

// node-redis v5 maps RESP blob strings (type '$', 36) to strings unless told to give Buffers.
const BUFFER_REPLIES: NodeRedisCommandOptions = { typeMapping: { 36: Buffer }, returnBuffers: true }

type Send = (args: Array<string | Buffer>) => Promise<unknown>

function toBytes(value: unknown): Uint8Array | undefined {
  if (value === null || value === undefined) return undefined
  if (value instanceof Uint8Array) return value
  return Buffer.from(String(value))
}

// SCAN's MATCH is a glob: a prefix holding *, ?, [ or \ must match only itself.
function globEscape(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&')
}

function toRedisStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new StoreError(
    `RedisStore ${operation} failed: ${detail} (the session data is unchanged or unknown; requests recover by themselves once Redis answers again)`,
    { cause: err },
  )
}

/**
 * A session store on Redis, key-compatible with Go's redisstore and goredisstore: each session is
 * the key `scs:session:<token>` holding the codec's bytes, and Redis expires it itself. A key is
 * never written without a TTL (`SET … PX`); an expiry already past deletes it. Commits in mode
 * `'update'` use `SET … XX` and in mode `'insert'` `SET … NX`, so a slow request cannot bring back
 * a destroyed session. `all()` walks the keys with SCAN, never KEYS.
 *
 * Every operation settles within `timeout`: a dead or unreachable server gives a StoreError (its
 * `cause` is the driver's error) instead of a request waiting in the client's offline queue, and
 * the store recovers as soon as the client reconnects. A command still queued when its timeout
 * fires may be sent after the reconnect; turn the offline queue off (node-redis
 * `disableOfflineQueue: true`, ioredis `enableOfflineQueue: false`) to have it fail at once instead. Attach `client.on('error', …)`: both
 * node-redis and ioredis emit `error` on a lost connection, and an unhandled `error` event ends
 * the process. The store never connects or quits the client; that stays the caller's job.
 *
 * @example
 * const client = createClient({ url: process.env.REDIS_URL })
 * client.on('error', (err) => console.error('redis:', err.message))
 * await client.connect()
 * const sessions = new SessionManager({ store: new RedisStore(client) })
 */
export class RedisStore implements IterableStore, Disposable {
  readonly #send: Send
  readonly #prefix: string
  readonly #timeout: number
  readonly #scanCount: string
  #closed = false

  constructor(client: RedisClient, options: RedisStoreOptions = {}) {
    const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX
    if (typeof prefix !== 'string') {
      throw new TypeError(`RedisStore: prefix must be a string, got ${typeof prefix}`)
    }
    const timeout = options.timeout ?? 2_000
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new RangeError(`RedisStore: timeout must be a positive number of ms, got ${timeout}`)
    }
    const scanCount = options.scanCount ?? 100
    if (!Number.isSafeInteger(scanCount) || scanCount < 1) {
      throw new RangeError(`RedisStore: scanCount must be a positive integer, got ${scanCount}`)
    }
    this.#prefix = prefix
    this.#timeout = timeout
    this.#scanCount = String(scanCount)
    this.#send = sender(client)
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
    const args: Array<string | Buffer> = ['SET', redisKey, asBuffer(data), 'PX', String(ttl)]
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

  /** Every live session under the prefix, keyed without it; SCAN then MGET, page by page. */
  async all(): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>()
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
      const keys = reply[1].map(String)
      if (keys.length === 0) continue
      const values = (await this.#run('all', ['MGET', ...keys])) as unknown[]
      for (let i = 0; i < keys.length; i++) {
        const data = toBytes(values[i])
        // A key that expired between SCAN and MGET is simply not live any more.
        if (data !== undefined) out.set((keys[i] as string).slice(this.#prefix.length), data)
      }
    } while (cursor !== '0')
    return out
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

  async #run(operation: string, args: Array<string | Buffer>): Promise<unknown> {
    if (this.#closed) {
      throw new StoreError(`RedisStore ${operation} failed: the store is closed; create a new one`)
    }
    try {
      return await withTimeout(this.#send(args), this.#timeout, 'Redis')
    } catch (err) {
      throw toRedisStoreError(err, operation)
    }
  }
}

// Relative TTL on the app clock, like goredisstore: immune to skew between app and Redis clocks.
function ttlOf(expiry: Date): number {
  const ms = expiry.getTime()
  if (Number.isNaN(ms)) throw new TypeError('RedisStore: expiry is an invalid Date')
  return Math.ceil(ms - Date.now())
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

// ioredis and node-redis both have a sendCommand, so ioredis is told apart by callBuffer.
function sender(client: RedisClient): Send {
  if (typeof (client as Partial<IORedisClient>)?.callBuffer === 'function') {
    const io = client as IORedisClient
    return (args) => io.callBuffer(args[0] as string, args.slice(1))
  }
  if (typeof (client as Partial<NodeRedisClient>)?.sendCommand === 'function') {
    const node = client as NodeRedisClient
    // Not node-redis's own per-command `timeout`: its AbortSignal costs several times the command.
    return (args) => node.sendCommand(args, BUFFER_REPLIES)
  }
  throw new TypeError('RedisStore: client must be a node-redis or ioredis client')
}
