/** The per-command options the store passes to node-redis (v5 reads `typeMapping`, v4 `returnBuffers`), so values come back as bytes. */
export interface NodeRedisCommandOptions {
  typeMapping?: Record<number, unknown>
  returnBuffers?: boolean
}

/** The one method the store calls on a node-redis client (`createClient()` from `redis`): `sendCommand`. */
export interface NodeRedisClient {
  sendCommand(args: Array<string | Buffer>, options?: NodeRedisCommandOptions): Promise<unknown>
}

/** One node of a node-redis cluster's slot map, as its `masters` list holds it. */
export interface NodeRedisClusterNode {
  readonly host: string
  readonly port: number
}

/**
 * What the store uses of a node-redis v5 or v4 cluster (`createCluster()` from `redis`):
 * `sendCommand` routed by the command's first key, and `masters` with `nodeClient` to walk every
 * master for `all()`.
 */
export interface NodeRedisClusterClient {
  sendCommand(
    firstKey: string | Buffer | undefined,
    isReadonly: boolean | undefined,
    args: Array<string | Buffer>,
    options?: NodeRedisCommandOptions,
  ): Promise<unknown>
  readonly masters: ReadonlyArray<NodeRedisClusterNode>
  nodeClient(node: NodeRedisClusterNode): NodeRedisClient | Promise<NodeRedisClient>
}

/** The one method the store calls on an ioredis client (`new Redis()`): `callBuffer`. */
export interface IORedisClient {
  callBuffer(command: string, args: Array<string | Buffer | number>): Promise<unknown>
}

/**
 * What the store uses of an ioredis `Cluster`: `callBuffer` (ioredis routes it by key) and
 * `nodes('master')` to walk every master for `all()`. Its `scaleReads` must stay `'master'`.
 */
export interface IORedisClusterClient extends IORedisClient {
  readonly isCluster: boolean
  nodes(role: 'master'): IORedisClient[]
  readonly options: { readonly scaleReads?: unknown }
  /** Used for `waitForReplicas` only: a pipeline goes to its keyed commands' node, a keyless WAIT with it. */
  pipeline(): IORedisPipeline
}

/** The part of an ioredis cluster pipeline the store uses. */
export interface IORedisPipeline {
  call(command: string, ...args: Array<string | number>): unknown
  exec(): Promise<Array<[Error | null, unknown]> | null>
}

/** A client the store accepts: node-redis v5 or v4, a node-redis cluster, ioredis 5 or an ioredis Cluster. */
export type RedisClient =
  | NodeRedisClient
  | NodeRedisClusterClient
  | IORedisClient
  | IORedisClusterClient

/** Sends one command to one server and gives its reply, bulk strings as bytes. */
export type NodeSend = (args: Array<string | Buffer>) => Promise<unknown>

/** A client seen through the few calls the store makes, whichever library and topology it is. */
export interface RedisConnection {
  /** Sends `args` to the server that holds its key (see {@link routingKey}). */
  send(args: Array<string | Buffer>): Promise<unknown>
  /** On a cluster, a sender for each master the client knows of now; undefined on one server. */
  readonly masters: (() => Promise<NodeSend[]>) | undefined
  /**
   * Called after the command `args` (undefined: a walk of the masters) got no reply: a cluster
   * client that reloads its slot map only when told to (node-redis) is told to here, at most
   * every 250 ms; a no-op elsewhere.
   */
  recover(args: Array<string | Buffer> | undefined): void
  /**
   * Sends `WAIT replicas ms` on the connection that carried the write `args` (on a cluster, its
   * key's master), so its reply counts the replicas that have this connection's writes.
   */
  waitForReplicas(args: Array<string | Buffer>, replicas: number, ms: number): Promise<unknown>
}

// node-redis v5 maps RESP blob strings (type '$', 36) to strings unless told to give Buffers.
const BUFFER_REPLIES: NodeRedisCommandOptions = { typeMapping: { 36: Buffer }, returnBuffers: true }

// The slot map is reloaded at most this often, however many requests fail meanwhile.
const RECOVER_INTERVAL_MS = 250

type Props = Record<string, unknown>

/**
 * The connection for `client`, told apart by shape (ioredis by `callBuffer`, a cluster by its
 * node list). Throws a TypeError for a client the store cannot drive, so that a wrong client
 * fails at start-up instead of on every request.
 */
export function redisConnection(client: RedisClient): RedisConnection {
  const props = (client ?? {}) as unknown as Props
  if (typeof props.callBuffer === 'function') {
    if (props.isCluster === true) return ioredisCluster(client as IORedisClusterClient)
    const io = client as IORedisClient
    return {
      send: (args) => io.callBuffer(args[0] as string, args.slice(1)),
      masters: undefined,
      recover: () => {},
      waitForReplicas: (_args, replicas, ms) => io.callBuffer('WAIT', [replicas, ms]),
    }
  }
  if (typeof props.sendCommand === 'function') {
    if ('masters' in props || typeof props.nodeClient === 'function') {
      return nodeRedisCluster(client as NodeRedisClusterClient)
    }
    const node = client as NodeRedisClient
    // Not node-redis's own per-command `timeout`: its AbortSignal costs several times the command.
    return {
      send: (args) => node.sendCommand(args, BUFFER_REPLIES),
      masters: undefined,
      recover: () => {},
      waitForReplicas: (_args, replicas, ms) =>
        node.sendCommand(['WAIT', String(replicas), String(ms)]),
    }
  }
  throw new TypeError(
    'RedisStore: client must be a node-redis client or cluster (createClient, createCluster from "redis") or an ioredis Redis or Cluster',
  )
}

function ioredisCluster(cluster: IORedisClusterClient): RedisConnection {
  if (typeof cluster.nodes !== 'function') {
    throw new TypeError('RedisStore: this ioredis Cluster has no nodes() method (ioredis 5 has)')
  }
  const scaleReads = cluster.options?.scaleReads ?? 'master'
  if (scaleReads !== 'master') {
    throw new TypeError(
      `RedisStore: the ioredis Cluster reads from replicas (scaleReads: ${JSON.stringify(typeof scaleReads === 'function' ? 'function' : scaleReads)}); replication is asynchronous, so a request could miss the session the previous one wrote. Give the store a Cluster with scaleReads: 'master' (the default)`,
    )
  }
  return {
    // ioredis finds the slot from the command's keys itself, EVALSHA's numkeys included.
    send: (args) => cluster.callBuffer(args[0] as string, args.slice(1)),
    masters: async () =>
      cluster
        .nodes('master')
        .map((node) => (args) => node.callBuffer(args[0] as string, args.slice(1))),
    // ioredis reloads its slot map on a lost node and on MOVED by itself.
    recover: () => {},
    waitForReplicas: async (args, replicas, ms) => {
      // A keyless WAIT alone would go to a random node; EXISTS pins the pipeline to the key's.
      const key = routingKey(args)
      const pipeline = cluster.pipeline()
      if (key !== undefined) pipeline.call('EXISTS', key)
      pipeline.call('WAIT', replicas, ms)
      const results = (await pipeline.exec()) ?? []
      const [err, reply] = results[results.length - 1] ?? [new Error('WAIT got no reply'), 0]
      if (err) throw err
      return reply
    },
  }
}

interface NodeRedisClusterInternals {
  _slots?: { rediscover?(startWith: unknown): Promise<unknown> }
}

function nodeRedisCluster(cluster: NodeRedisClusterClient): RedisConnection {
  if (typeof cluster.nodeClient !== 'function' || !Array.isArray(cluster.masters)) {
    throw new TypeError(
      'RedisStore: this node-redis cluster client has no masters list or nodeClient() (node-redis v4 and v5 have both)',
    )
  }
  let lastRecover = Number.NEGATIVE_INFINITY
  const nodeSend =
    (node: NodeRedisClusterNode): NodeSend =>
    async (args) =>
      (await cluster.nodeClient(node)).sendCommand(args, BUFFER_REPLIES)
  return {
    // isReadonly false: node-redis then always picks the slot's master, never a replica.
    send: (args) => cluster.sendCommand(routingKey(args), false, args, BUFFER_REPLIES),
    // Routed by the key like its write: node-redis has one connection per node.
    waitForReplicas: (args, replicas, ms) =>
      cluster.sendCommand(routingKey(args), false, ['WAIT', String(replicas), String(ms)]),
    masters: async () => cluster.masters.map(nodeSend),
    recover: (args) => {
      const now = performance.now()
      if (now - lastRecover < RECOVER_INTERVAL_MS) return
      lastRecover = now
      // node-redis reloads its slot map only on a MOVED reply, which a dead master never sends,
      // so after a failover it would keep sending that master's slots to it until it returns.
      // v5 exposes the reload; it starts from a node that is still connected.
      const slots = (cluster as unknown as NodeRedisClusterInternals)._slots
      if (typeof slots?.rediscover === 'function') {
        const masters = cluster.masters as ReadonlyArray<{ client?: { isReady?: boolean } }>
        const live = masters.find((m) => m.client?.isReady)?.client
        if (live !== undefined) slots.rediscover(live).catch(() => {})
        return
      }
      // v4 keeps its slot map private. A harmless read of the key sent to a node picked in turn
      // (no routing key) draws a MOVED from any live node once the replica has taken over, and
      // v4 reloads its map on a MOVED. One sent to the dead node waits in its queue; the next
      // call, a moment later, goes to the next node.
      const key = args === undefined ? undefined : routingKey(args)
      if (key !== undefined) cluster.sendCommand(undefined, false, ['EXISTS', key]).catch(() => {})
    },
  }
}

/**
 * The key a command is routed by on a cluster: a script's first key, else the command's first
 * argument (every keyed command the store and the CLI send names its key there); undefined for
 * SCAN and for a script without keys.
 */
export function routingKey(args: Array<string | Buffer>): string | undefined {
  // The store and the CLI spell every command in capitals.
  const command = args[0]
  if (command === 'EVALSHA' || command === 'EVAL') {
    return Number(args[2]) > 0 ? String(args[3]) : undefined
  }
  if (command === 'SCAN') return undefined
  return args[1] === undefined ? undefined : String(args[1])
}
