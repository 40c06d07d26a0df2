/** The default key prefix, the one Go's redisstore and goredisstore use. */
export const DEFAULT_REDIS_PREFIX = 'scs:session:'

/** The prefix of the per-owner hashes of the owner index; never under a session prefix. */
export const OWNER_KEY_PREFIX = 'sessionkit:owner:'

/** The prefix of the keys that remember ended sessions; never under a session prefix such as Go's. */
export const ENDED_KEY_PREFIX = 'sessionkit:ended:'

/**
 * The key remembering that `redisKey` ended. Redis Cluster hashes only a key's {hash tag} when it
 * has one, so the marker carries the session key's tag (or the whole key as its tag) and a script
 * touching both stays in one slot.
 */
export function endedKeyOf(redisKey: string): string {
  const tag = hashTagOf(redisKey)
  if (tag !== undefined) return `${ENDED_KEY_PREFIX}{${tag}}:${redisKey}`
  return `${ENDED_KEY_PREFIX}{${redisKey}}`
}

/** The {hash tag} Redis Cluster hashes instead of the whole key, when the key has a non-empty one. */
// The {hash tag} Redis Cluster hashes instead of the whole key, when the key has a non-empty one.
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{')
  const close = open === -1 ? -1 : key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : undefined
}
