/** Options for {@link RedisStore}. */
export interface RedisStoreOptions {
  /** Prepended to every key; SCS's redisstore and goredisstore use the same. @default 'scs:session:' */
  prefix?: string
  /** How long one operation may take before it rejects with a StoreError, in ms. @default 2_000 */
  timeout?: number
  /** Keys asked of each SCAN step by `all()`. @default 100 */
  scanCount?: number
  /**
   * After each write, wait (Redis `WAIT`) until this many replicas of the key's master confirm
   * it, for at most half of `timeout`; fewer is a StoreError. With 1 and one replica per master,
   * a write a request saw succeed survives that master's failover. 0 sends no WAIT. @default 0
   */
  waitForReplicas?: number
}
