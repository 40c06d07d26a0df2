export type {
  IORedisClient,
  IORedisClusterClient,
  NodeRedisClient,
  NodeRedisClusterClient,
  NodeRedisClusterNode,
  NodeRedisCommandOptions,
  RedisClient,
} from './client.js'
export { globEscape } from './cluster.js'
export { DEFAULT_REDIS_PREFIX, ENDED_KEY_PREFIX, endedKeyOf, OWNER_KEY_PREFIX } from './keys.js'
export { RedisStore } from './store.js'
export type { RedisStoreOptions } from './types.js'
