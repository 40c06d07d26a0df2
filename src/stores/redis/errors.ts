import { StoreError } from '../../errors.js'

// Error replies that describe a moment, not the setup: a server loading its data, a busy script,
// a cluster electing a new master or moving a slot.
const TRANSIENT_REPLIES = new Set([
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'NOREPLICAS',
])

const CLUSTER_NODE =
  'this server is a Redis Cluster node: give the store a cluster client (createCluster from "redis", or ioredis Cluster), which follows the slots to their nodes'

// What to fix, for the error replies a store can meet when Redis is set up in a way it cannot use.
const FIXES: Record<string, string> = {
  CROSSSLOT:
    'a command spanned several Redis Cluster slots; give the store a cluster client (createCluster or ioredis Cluster), not a client of one node',
  MOVED: CLUSTER_NODE,
  ASK: CLUSTER_NODE,
  NOAUTH: 'Redis wants a password: give the client its username and password',
  WRONGPASS: "the client's username or password is wrong",
  NOPERM:
    'the Redis ACL user may not run a command or touch a key the store needs (docs/stores.md lists them)',
  WRONGTYPE:
    "a key under the store's prefix is not a string a session store wrote; give the store a prefix of its own",
  OOM: 'Redis reached its maxmemory; raise it or choose an eviction policy such as volatile-ttl',
  MISCONF:
    'Redis refuses writes because it cannot save its snapshot; fix its disk or its save settings',
}

const NO_REPLY_FIX =
  'the session data is unchanged or unknown; requests recover by themselves once Redis answers again'

/** An error reply from the server (ioredis ReplyError, node-redis ErrorReply), as opposed to a lost connection or a timeout. */
function replyCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined
  const kind = err.name === 'Error' ? err.constructor.name : err.name
  if (!['ReplyError', 'ErrorReply', 'SimpleError', 'BlobError'].includes(kind)) return undefined
  return /^[A-Z][A-Z_-]*/.exec(err.message)?.[0] ?? 'ERR'
}

/** Whether the server answered `err` with an error reply; false for a lost connection or a timeout. */
export function answered(err: unknown): boolean {
  return replyCode(err) !== undefined
}

/**
 * Whether `err` (a client's error or a StoreError wrapping one) will pass by itself: no reply, or
 * a reply about a passing state such as a failover. A redirection (MOVED, ASK) passes only on a
 * cluster client, which follows it; a client of one node meets it on every call.
 */
function isTransient(err: unknown, cluster: boolean): boolean {
  const cause = err instanceof StoreError && err.cause !== undefined ? err.cause : err
  // A client used in a way it does not support (a wrong client, a bug) fails the same way forever.
  if (cause instanceof TypeError || cause instanceof RangeError) return false
  const code = replyCode(cause)
  if (code === undefined) return true
  if (code === 'MOVED' || code === 'ASK') return cluster
  return TRANSIENT_REPLIES.has(code)
}

/**
 * `err` as a StoreError naming the operation, ending with whether it recovers by itself
 * ("transient: …") or needs the setup fixed ("permanent: …", with what to fix).
 */
export function toRedisStoreError(err: unknown, operation: string, cluster: boolean): StoreError {
  if (err instanceof StoreError) return err
  const detail = err instanceof Error ? err.message : String(err)
  if (isTransient(err, cluster)) {
    return new StoreError(
      `RedisStore ${operation} failed: ${detail} (transient: ${NO_REPLY_FIX})`,
      {
        cause: err,
      },
    )
  }
  const code = replyCode(err)
  const fix =
    (code !== undefined ? FIXES[code] : undefined) ??
    (code === undefined
      ? 'the client rejected the call; is it a client the store supports, connected?'
      : "Redis rejected the command; check the server's version (6.2 or later) and settings")
  return new StoreError(
    `RedisStore ${operation} failed: ${detail} (permanent: this will not recover by itself; ${fix})`,
    { cause: err },
  )
}
