import { createHash } from 'node:crypto'

/** A Lua script run with EVALSHA, sent whole with EVAL only when the server lacks it. */
export interface Script {
  source: string
  sha: string
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

// Compare-and-set: KEYS[1] the session; ARGV expected bytes, new bytes, TTL in ms. Replies 1
// when written, the current bytes when they differ, nil when the key is gone.
export const REPLACE = script(`local cur = redis.call('GET', KEYS[1])
if not cur then return false end
if cur ~= ARGV[1] then return cur end
local ttl = tonumber(ARGV[3])
if ttl <= 0 then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl) end
return 1`)

// Ending: KEYS[1] the session, KEYS[2] its marker; ARGV reason, marker TTL in ms. Replies the
// bytes the session held (and marks it), or nil when it was already gone.
export const END = script(`local cur = redis.call('GET', KEYS[1])
if not cur then return false end
redis.call('DEL', KEYS[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl) end
return cur`)

export interface OwnedEntry {
  c: number
  s: number
  ua?: string
  ip?: string
}

// Last seen: KEYS[1] an owner's hash; ARGV the session key and the time. Rewrites the entry's
// "s" only when the entry is there, so a touch never files a session anew.
export const TOUCH_OWNED = script(`local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return 0 end
local entry = cjson.decode(json)
entry.s = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
return 1`)
