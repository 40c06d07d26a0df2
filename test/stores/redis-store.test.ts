import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { createClient as createClientV4 } from 'redis4'
import * as vitest from 'vitest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/index.ts'
import { type IORedisClient, RedisStore } from '../../src/stores/redis/index.ts'
import { describeStoreConformance } from '../../src/testing/index.ts'
import { enc } from '../helpers/bytes.ts'
import { freePort } from '../helpers/http.ts'
import { named, serviceUrl } from '../helpers/services.ts'

const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : new TextDecoder().decode(b)
const inMinutes = (m: number): Date => new Date(Date.now() + m * 60_000)
const past = (): Date => new Date(Date.now() - 5_000)

const url = serviceUrl('redis')

/** Raw commands for assertions, sent through ioredis whichever client the store uses. */
type Raw = Redis

// Each suite gets its own logical database, so FLUSHDB in one never empties another's keys.
async function nodeRedis(base: string, db: number) {
  const client = createClient({ url: base, database: db })
  // A lost connection emits 'error' on the client; unhandled, it would end the run.
  client.on('error', () => {})
  await client.connect()
  return client
}

function ioRedis(base: string, db: number): Redis {
  const client = new Redis(base, { db })
  client.on('error', () => {})
  return client
}

describe.skipIf(url === undefined)(named('Redis', 'redis', url), () => {
  // Read only inside hooks and tests: this body also runs (to name the skipped tests) without one.
  const redisUrl = url as string
  describeStoreConformance(vitest, 'RedisStore (node-redis v5)', RedisStore, async () => {
    const client = await nodeRedis(redisUrl, 1)
    return {
      store: new RedisStore(client),
      reset: async () => {
        await client.flushDb()
      },
      close: async () => {
        client.destroy()
      },
    }
  })

  // node-redis v4 (the `redis4` alias of redis@4) reads `returnBuffers` where v5 reads `typeMapping`.
  describeStoreConformance(vitest, 'RedisStore (node-redis v4)', RedisStore, async () => {
    const client = createClientV4({ url: redisUrl, database: 3 })
    client.on('error', () => {})
    await client.connect()
    return {
      store: new RedisStore(client),
      reset: async () => {
        await client.flushDb()
      },
      close: async () => {
        await client.disconnect()
      },
    }
  })

  describeStoreConformance(vitest, 'RedisStore (ioredis)', RedisStore, async () => {
    const client = ioRedis(redisUrl, 2)
    return {
      store: new RedisStore(client),
      reset: async () => {
        await client.flushdb()
      },
      close: () => {
        client.disconnect()
      },
    }
  })

  const clients = [
    { name: 'node-redis', db: 3, make: async (base: string, db: number) => nodeRedis(base, db) },
    { name: 'ioredis', db: 4, make: async (base: string, db: number) => ioRedis(base, db) },
  ]

  describe.each(clients)('RedisStore with $name (SCS redisstore tests)', ({ db, make }) => {
    let raw: Raw
    let store: RedisStore
    let close: () => void

    beforeAll(async () => {
      raw = ioRedis(redisUrl, db)
      const client = await make(redisUrl, db)
      store = new RedisStore(client)
      close = () => ('destroy' in client ? client.destroy() : client.disconnect())
    })
    beforeEach(async () => {
      await raw.flushdb()
    })
    afterAll(() => {
      close()
      raw.disconnect()
    })

    it('finds a key set directly with no TTL (TestFind)', async () => {
      await raw.set('scs:session:session_token', 'encoded_data')
      expect(text(await store.find('session_token'))).toBe('encoded_data')
    })

    it('resolves undefined, not an error, for a missing token (TestFindMissing)', async () => {
      await expect(store.find('missing_session_token')).resolves.toBeUndefined()
    })

    it('writes the raw codec bytes under scs:session:<token> (TestSaveNew)', async () => {
      await store.commit('session_token', enc('encoded_data'), inMinutes(1))
      expect(await raw.get('scs:session:session_token')).toBe('encoded_data')
    })

    it('overwrites an existing key (TestSaveUpdated)', async () => {
      await raw.set('scs:session:session_token', 'encoded_data')
      await store.commit('session_token', enc('new_encoded_data'), inMinutes(1))
      expect(await raw.get('scs:session:session_token')).toBe('new_encoded_data')
    })

    it('is found before its expiry and gone once it has passed (TestExpiry)', async () => {
      await store.commit('session_token', enc('encoded_data'), new Date(Date.now() + 150))
      expect(await store.find('session_token')).toBeDefined()
      // Redis expires the key itself: wait on Redis, not on a fixed sleep.
      await waitUntilGone(raw, 'scs:session:session_token')
      expect(await store.find('session_token')).toBeUndefined()
    })

    it('deletes the key (TestDelete)', async () => {
      await raw.set('scs:session:session_token', 'encoded_data')
      await store.delete('session_token')
      expect(await raw.get('scs:session:session_token')).toBeNull()
    })

    it('all() returns every key under the prefix without it (goredisstore TestAll)', async () => {
      for (let i = 0; i < 4; i++) await raw.set(`scs:session:token_${i}`, `token_${i}`)
      await raw.set('other:token_9', 'not a session')
      const all = await store.all()
      expect(Object.fromEntries([...all].map(([k, v]) => [k, text(v)]))).toEqual({
        token_0: 'token_0',
        token_1: 'token_1',
        token_2: 'token_2',
        token_3: 'token_3',
      })
    })

    it('never writes a key without a TTL: PTTL is positive after every kind of write', async () => {
      await store.commit('a', enc('v'), inMinutes(1))
      await store.commit('b', enc('v'), inMinutes(1), 'insert')
      await raw.set('scs:session:c', 'v')
      await store.commit('c', enc('v'), inMinutes(1), 'update')
      for (const key of ['a', 'b', 'c']) {
        const pttl = await raw.pttl(`scs:session:${key}`)
        expect(pttl).toBeGreaterThan(55_000)
        expect(pttl).toBeLessThanOrEqual(60_000)
      }
    })

    it('an expiry in the past deletes the key instead of writing one without a TTL', async () => {
      await store.commit('k', enc('v'), inMinutes(1))
      expect(await store.commit('k', enc('v2'), past())).toBe(true)
      expect(await raw.exists('scs:session:k')).toBe(0)
      await store.commit('k', enc('v'), inMinutes(1))
      expect(await store.commit('k', enc('v2'), past(), 'update')).toBe(true)
      expect(await raw.exists('scs:session:k')).toBe(0)
      expect(await store.commit('k', enc('v2'), past(), 'update')).toBe(false)
      expect(await store.commit('k', enc('v2'), past(), 'insert')).toBe(true)
      expect(await raw.exists('scs:session:k')).toBe(0)
    })

    it("commit 'update' is SET … XX and 'insert' is SET … NX", async () => {
      expect(await store.commit('k', enc('v'), inMinutes(1), 'update')).toBe(false)
      expect(await raw.exists('scs:session:k')).toBe(0)
      expect(await store.commit('k', enc('v'), inMinutes(1), 'insert')).toBe(true)
      expect(await store.commit('k', enc('v2'), inMinutes(1), 'insert')).toBe(false)
      expect(await raw.get('scs:session:k')).toBe('v')
    })

    it('touch moves the TTL with PEXPIRE and keeps the data; a past expiry deletes the key', async () => {
      await store.commit('k', enc('kept'), new Date(Date.now() + 10_000))
      expect(await store.touch('k', inMinutes(10))).toBe(true)
      expect(await raw.pttl('scs:session:k')).toBeGreaterThan(590_000)
      expect(await raw.get('scs:session:k')).toBe('kept')
      expect(await store.touch('k', past())).toBe(true)
      expect(await raw.exists('scs:session:k')).toBe(0)
      expect(await store.touch('k', inMinutes(1))).toBe(false)
      expect(await raw.exists('scs:session:k')).toBe(0)
    })

    it('a foreign key under the prefix is a permanent error naming the fix; a lost server a transient one', async () => {
      await raw.hset('scs:session:hash', 'field', 'value')
      const err = await store.find('hash').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreError)
      expect((err as StoreError).message).toMatch(/WRONGTYPE/)
      expect((err as StoreError).message).toMatch(
        /permanent: this will not recover by itself; a key under the store's prefix/,
      )
      const broken = new RedisStore({
        callBuffer: async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'length')")
        },
      })
      await expect(broken.find('k')).rejects.toThrow(
        /permanent: .*is it a client the store supports/,
      )
    })

    it('uses a configured prefix, escaping glob characters for SCAN', async () => {
      const client = await make(redisUrl, db)
      const prefixed = new RedisStore(client, { prefix: 'app*[1]:' })
      await prefixed.commit('t', enc('mine'), inMinutes(1))
      await raw.set('appX1:u', 'not mine', 'PX', 60_000)
      expect(await raw.get('app*[1]:t')).toBe('mine')
      expect([...(await prefixed.all()).keys()]).toEqual(['t'])
      if ('destroy' in client) client.destroy()
      else client.disconnect()
    })
  })

  describe('RedisStore waitForReplicas', () => {
    it('with waitForReplicas and no replica, a write lands but rejects with a transient StoreError saying so', async () => {
      const client = new Redis(redisUrl, { db: 6 })
      client.on('error', () => {})
      const store = new RedisStore(client, {
        prefix: 'wait-test:',
        timeout: 200,
        waitForReplicas: 1,
      })
      const started = performance.now()
      const err = await store.commit('k', enc('v'), inMinutes(1)).catch((e: unknown) => e)
      expect(performance.now() - started).toBeLessThan(1_000)
      expect(err).toBeInstanceOf(StoreError)
      expect((err as StoreError).message).toMatch(/0 of 1 replicas confirmed it within 100 ms/)
      expect((err as StoreError).message).toMatch(/transient/)
      expect(await client.get('wait-test:k')).toBe('v')
      await client.del('wait-test:k')
      expect(() => new RedisStore(client, { waitForReplicas: -1 })).toThrow(/waitForReplicas/)
      client.disconnect()
    })
  })

  describe('RedisStore#all', () => {
    let raw: Raw
    beforeAll(() => {
      raw = ioRedis(redisUrl, 5)
    })
    afterAll(() => {
      raw.disconnect()
    })

    it('walks the keyspace with SCAN over many pages and never sends KEYS', async () => {
      await raw.flushdb()
      const sent: string[] = []
      const spy: IORedisClient = {
        callBuffer: (command, args) => {
          sent.push(command)
          return raw.callBuffer(command, args)
        },
      }
      const store = new RedisStore(spy, { scanCount: 10 })
      for (let i = 0; i < 250; i++) await store.commit(`t${i}`, enc(`v${i}`), inMinutes(1))
      const all = await store.all()
      expect(all.size).toBe(250)
      expect(text(all.get('t123'))).toBe('v123')
      expect(sent.filter((c) => c === 'SCAN').length).toBeGreaterThan(1)
      expect(sent).not.toContain('KEYS')
    })
  })
})

describe('RedisStore failures', () => {
  it('rejects invalid options and clients with messages naming them', () => {
    const fake: IORedisClient = { callBuffer: async () => null }
    expect(() => new RedisStore(fake, { timeout: 0 })).toThrow(/timeout/)
    expect(() => new RedisStore(fake, { scanCount: 0 })).toThrow(/scanCount/)
    expect(() => new RedisStore(fake, { prefix: 1 as never })).toThrow(/prefix/)
    expect(() => new RedisStore({} as never)).toThrow(/node-redis client or cluster/)
  })

  it('rejects with a StoreError whose cause is the driver error (node-redis, not connected)', async () => {
    const client = createClient({ url: 'redis://127.0.0.1:1' })
    const err = await new RedisStore(client).find('k').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).code).toBe('ERR_STORE')
    expect((err as StoreError).cause).toBeInstanceOf(Error)
  })

  it('rejects within its timeout while the client queues commands for a server that is down (ioredis)', async () => {
    const port = await freePort()
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: false })
    client.on('error', () => {})
    const store = new RedisStore(client, { timeout: 200 })
    const started = performance.now()
    const err = await store.commit('k', enc('v'), inMinutes(1)).catch((e: unknown) => e)
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(err).toBeInstanceOf(StoreError)
    expect((err as StoreError).message).toMatch(/within 200 ms/)
    expect((err as StoreError).message).toMatch(/transient: .*recover by themselves/)
    client.disconnect()
  })

  it('refuses calls after close with a StoreError', async () => {
    const store = new RedisStore({ callBuffer: async () => null })
    store.close()
    store.close()
    await expect(store.find('k')).rejects.toThrow(/closed/)
  })
})

async function waitUntilGone(raw: Raw, key: string): Promise<void> {
  for (let i = 0; i < 100 && (await raw.exists(key)) === 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
