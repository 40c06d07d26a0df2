import { spawnSync } from 'node:child_process'
import { Cluster, Redis } from 'ioredis'
import { createCluster } from 'redis'
import { createCluster as createClusterV4 } from 'redis4'
import type {
  IORedisClusterClient,
  NodeRedisClusterClient,
  RedisClient,
} from '../../src/stores/redis/index.ts'

/** The cluster clients the store supports, as the tests build them. */
export const CLUSTER_CLIENTS = ['ioredis', 'node-redis v5', 'node-redis v4'] as const
export type ClusterClientName = (typeof CLUSTER_CLIENTS)[number]

/** A connected cluster client and how to let it go. */
export interface ClusterClient {
  client: RedisClient
  close(): Promise<void>
}

/** The nodes of SESSIONKIT_REDIS_CLUSTER_URL (`redis://host:port,…`). */
export function clusterNodes(urls: string): { host: string; port: number }[] {
  return urls.split(',').map((u) => {
    const url = new URL(u.trim())
    return { host: url.hostname, port: Number(url.port) }
  })
}

const quiet = () => {}

/** A cluster client of the named library, connected, its `error` events handled. */
export async function connectCluster(
  name: ClusterClientName,
  urls: string,
  options: { commandTimeout?: number } = {},
): Promise<ClusterClient> {
  const nodes = clusterNodes(urls)
  if (name === 'ioredis') {
    const client: IORedisClusterClient & Cluster = new Cluster(nodes, { redisOptions: {} })
    client.on('error', quiet)
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve)
      client.once('error', reject)
    })
    return { client, close: async () => client.disconnect() }
  }
  const rootNodes = nodes.map(({ host, port }) => ({ url: `redis://${host}:${port}` }))
  // Short reconnect steps: a killed node is retried every 100–500 ms instead of up to 2 s.
  const socket = {
    reconnectStrategy: (retries: number) => Math.min(100 * (retries + 1), 500),
    connectTimeout: options.commandTimeout ?? 1_000,
  }
  if (name === 'node-redis v5') {
    const client = createCluster({ rootNodes, defaults: { socket } })
    client.on('error', quiet)
    await client.connect()
    // node-redis's cluster type must fit the store's cluster interface as it is.
    const typed: NodeRedisClusterClient = client
    return { client: typed, close: async () => client.destroy() }
  }
  const client = createClusterV4({ rootNodes, defaults: { socket } })
  client.on('error', quiet)
  await client.connect()
  const typed: NodeRedisClusterClient = client
  return { client: typed, close: async () => client.disconnect() }
}

/** One plain connection per node, for the test's own look at the cluster. */
export class ClusterAdmin {
  readonly #nodes: { host: string; port: number }[]
  readonly #conns = new Map<number, Redis>()

  constructor(urls: string) {
    this.#nodes = clusterNodes(urls)
  }

  node(port: number): Redis {
    let conn = this.#conns.get(port)
    if (conn === undefined) {
      conn = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, commandTimeout: 500 })
      conn.on('error', quiet)
      this.#conns.set(port, conn)
    }
    return conn
  }

  /** Every node's `myself` line, for the nodes that answer (and are not in `skip`). */
  async views(
    skip: number[] = [],
  ): Promise<{ port: number; id: string; master: boolean; slots: string[] }[]> {
    const out = []
    for (const { port } of this.#nodes) {
      if (skip.includes(port)) continue
      const text = await this.node(port)
        .call('CLUSTER', 'NODES')
        .catch(() => undefined)
      const line = String(text ?? '')
        .split('\n')
        .find((l) => l.includes('myself'))
      if (line === undefined) continue
      const fields = line.trim().split(' ')
      out.push({
        port,
        id: fields[0] as string,
        master: (fields[2] ?? '').includes('master'),
        slots: fields.slice(8),
      })
    }
    return out
  }

  /** The port of the master serving `key`'s slot, as that master says. */
  async masterOf(key: string): Promise<number> {
    const first = this.#nodes[0] as { port: number }
    const slot = Number(await this.node(first.port).call('CLUSTER', 'KEYSLOT', key))
    for (const view of await this.views()) {
      if (!view.master) continue
      for (const token of view.slots) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(token)
        if (m && slot >= Number(m[1]) && slot <= Number(m[2] ?? m[1])) return view.port
      }
    }
    throw new Error(`no master serves slot ${slot}`)
  }

  /** The port of the replica of the master on `port`. */
  async replicaOf(port: number): Promise<number> {
    const info = String(await this.node(port).info('replication'))
    const m = /slave0:ip=[^,]+,port=(\d+)/.exec(info)
    if (m === null) throw new Error(`the master on ${port} has no replica`)
    return Number(m[1])
  }

  /** Deletes every key whose name contains `part`, on every master. */
  async deleteMatching(part: string): Promise<void> {
    for (const view of await this.views()) {
      if (!view.master) continue
      const conn = this.node(view.port)
      let cursor = '0'
      do {
        const [next, keys] = await conn.scan(cursor, 'MATCH', `*${part}*`, 'COUNT', 500)
        cursor = next
        for (const key of keys) await conn.del(key)
      } while (cursor !== '0')
    }
  }

  /** The process of the node on `port` and the file it was started from. */
  async processOf(port: number): Promise<{ pid: number; config: string }> {
    const info = String(await this.node(port).info('server'))
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1])
    const config = /config_file:(\S+)/.exec(info)?.[1]
    if (!pid || config === undefined) throw new Error(`no process_id/config_file for ${port}`)
    return { pid, config }
  }

  /** Starts a node again from its config file (it rejoins as a replica of its successor). */
  start(config: string): void {
    const run = spawnSync('redis-server', [config], { encoding: 'utf8' })
    if (run.status !== 0) throw new Error(`redis-server ${config}: ${run.stderr}`)
  }

  /** Waits until every node answers, agrees the cluster is ok, and each replica is in sync. */
  async waitHealthy(ms = 20_000): Promise<void> {
    const deadline = performance.now() + ms
    for (;;) {
      let ok = true
      for (const { port } of this.#nodes) {
        const info = String(
          await this.node(port)
            .call('CLUSTER', 'INFO')
            .catch(() => ''),
        )
        if (!info.includes('cluster_state:ok')) ok = false
        const repl = String(
          await this.node(port)
            .info('replication')
            .catch(() => ''),
        )
        if (repl.includes('role:slave') && !repl.includes('master_link_status:up')) ok = false
        if (repl === '') ok = false
      }
      const masters = (await this.views()).filter((v) => v.master && v.slots.length > 0)
      if (ok && masters.length === 3) return
      if (performance.now() > deadline)
        throw new Error(`the cluster was not healthy within ${ms} ms`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Waits until `redis-cli --cluster check` finds every node agreeing on the slots, none open. */
  async waitAgreed(ms = 20_000): Promise<void> {
    const first = this.#nodes[0] as { port: number }
    const deadline = performance.now() + ms
    for (;;) {
      const run = spawnSync('redis-cli', ['--cluster', 'check', `127.0.0.1:${first.port}`], {
        encoding: 'utf8',
      })
      if (
        run.status === 0 &&
        run.stdout.includes('All nodes agree') &&
        !run.stdout.includes('[WARNING]')
      ) {
        return
      }
      if (performance.now() > deadline) throw new Error(`the slots did not settle: ${run.stdout}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  close(): void {
    for (const conn of this.#conns.values()) conn.disconnect()
    this.#conns.clear()
  }
}
