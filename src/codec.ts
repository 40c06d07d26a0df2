import { SessionError } from './errors.js'

/** What a codec stores: the absolute deadline and the session's values. */
export interface SessionRecord {
  deadline: Date
  values: Map<string, unknown>
}

/**
 * Turns a session's deadline and values into bytes and back (SCS `Codec`).
 * `encode` throws a `SessionError` with code `ERR_CODEC` for a value it cannot represent;
 * `decode` throws one for bytes it cannot read. Neither may return partial data.
 */
export interface Codec {
  encode(deadline: Date, values: ReadonlyMap<string, unknown>): Uint8Array
  decode(data: Uint8Array): SessionRecord
}

const TAG = '$t'
const decoder = new TextDecoder('utf-8', { fatal: true })

type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

interface EncodeState {
  tagged: boolean
  // The objects being encoded, outermost first; shallow in practice, so an array beats a Set.
  path: object[]
}

function fail(key: string, message: string): never {
  throw new SessionError('ERR_CODEC', `jsonCodec cannot encode session key "${key}": ${message}`)
}

function tag(state: EncodeState, type: string, v?: Json): Json {
  state.tagged = true
  return v === undefined ? { [TAG]: type } : { [TAG]: type, v }
}

// Returns the JSON form of a value; plain JSON values come back as they are.
function encodeValue(value: unknown, key: string, state: EncodeState): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      // JSON writes -0 as 0, so it travels tagged like the non-finite numbers.
      if (Number.isFinite(value) && !Object.is(value, -0)) return value
      return tag(state, 'number', Object.is(value, -0) ? '-0' : String(value))
    case 'bigint':
      return tag(state, 'bigint', value.toString())
    case 'undefined':
      return tag(state, 'undefined')
    case 'object':
      break
    default:
      return fail(key, `a ${typeof value} is not storable`)
  }
  if (value === null) return null
  if (state.path.includes(value)) fail(key, 'the value contains a cycle')
  state.path.push(value)
  const json = encodeObject(value, key, state)
  state.path.pop()
  return json
}

function encodeObject(value: object, key: string, state: EncodeState): Json {
  if (Array.isArray(value)) return value.map((item) => encodeValue(item, key, state))
  if (value instanceof Date) {
    const ms = value.getTime()
    return tag(state, 'Date', Number.isNaN(ms) ? null : ms)
  }
  if (value instanceof Uint8Array) return tag(state, 'bytes', Buffer.from(value).toString('base64'))
  if (value instanceof Map) {
    const entries: Json[] = []
    for (const [k, v] of value)
      entries.push([encodeValue(k, key, state), encodeValue(v, key, state)])
    return tag(state, 'Map', entries)
  }
  if (value instanceof Set) {
    return tag(
      state,
      'Set',
      Array.from(value, (v) => encodeValue(v, key, state)),
    )
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'
    fail(
      key,
      `instances of ${name} are not storable; store plain objects, arrays, Date, Uint8Array, BigInt, Map or Set`,
    )
  }
  const out = plainRecord()
  for (const k of Object.keys(value)) {
    out[k] = encodeValue((value as Record<string, unknown>)[k], key, state)
  }
  return TAG in out ? tag(state, 'object', out) : out
}

// Without a prototype, assigning a "__proto__" key makes an own property, not a prototype change.
function plainRecord(): { [k: string]: Json } {
  return Object.create(null) as { [k: string]: Json }
}

function decodeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = decodeValue(value[i])
    return value
  }
  const obj = value as Record<string, unknown>
  const type = obj[TAG]
  if (type === undefined) {
    for (const k of Object.keys(obj)) obj[k] = decodeValue(obj[k])
    return obj
  }
  const v = obj.v
  switch (type) {
    case 'Date':
      return new Date(typeof v === 'number' ? v : Number.NaN)
    case 'bytes':
      return new Uint8Array(Buffer.from(String(v), 'base64'))
    case 'bigint':
      return BigInt(String(v))
    case 'number':
      return Number(v)
    case 'undefined':
      return undefined
    case 'Map':
      return new Map(
        (v as unknown[][]).map(([k, val]) => [decodeValue(k), decodeValue(val)] as const),
      )
    case 'Set':
      return new Set((v as unknown[]).map(decodeValue))
    case 'object': {
      const inner = v as Record<string, unknown>
      for (const k of Object.keys(inner)) inner[k] = decodeValue(inner[k])
      return inner
    }
    default:
      throw new Error(`unknown type tag ${JSON.stringify(type)}`)
  }
}

/**
 * The default codec: JSON with type tags, so Date, Uint8Array, BigInt, Map, Set, undefined,
 * -0 and non-finite numbers come back as what they were. Class instances, functions and symbols are
 * refused at encode time with an error naming the key. A `__proto__` key in stored data stays an
 * own property and never changes a prototype.
 */
export const jsonCodec: Codec = {
  encode(deadline, values) {
    const state: EncodeState = { tagged: false, path: [] }
    const v = plainRecord()
    for (const [key, value] of values) v[key] = encodeValue(value, key, state)
    const envelope = state.tagged
      ? { d: deadline.getTime(), t: 1, v }
      : { d: deadline.getTime(), v }
    return Buffer.from(JSON.stringify(envelope), 'utf8')
  },

  decode(data) {
    try {
      const envelope: unknown = JSON.parse(decoder.decode(data))
      if (typeof envelope !== 'object' || envelope === null) throw new Error('not an object')
      const { d, t, v } = envelope as { d?: unknown; t?: unknown; v?: unknown }
      if (typeof d !== 'number' || typeof v !== 'object' || v === null || Array.isArray(v)) {
        throw new Error('missing deadline or values')
      }
      const values = new Map<string, unknown>()
      for (const key of Object.keys(v)) {
        const raw = (v as Record<string, unknown>)[key]
        values.set(key, t === 1 ? decodeValue(raw) : raw)
      }
      return { deadline: new Date(d), values }
    } catch (err) {
      throw new SessionError(
        'ERR_CODEC',
        `stored session data is not valid jsonCodec data (${(err as Error).message}); was it written by another codec?`,
        { cause: err },
      )
    }
  },
}

/** @internal `codec.decode` with its failures as `ERR_CODEC` SessionErrors (a SessionError passes through). */
export function decodeRecord(codec: Codec, data: Uint8Array): SessionRecord {
  try {
    return codec.decode(data)
  } catch (err) {
    if (err instanceof SessionError) throw err
    throw new SessionError('ERR_CODEC', `cannot decode stored session: ${(err as Error).message}`, {
      cause: err,
    })
  }
}

/** @internal `codec.encode` with its failures as `ERR_CODEC` SessionErrors (a SessionError passes through). */
export function encodeRecord(
  codec: Codec,
  deadline: Date,
  values: ReadonlyMap<string, unknown>,
): Uint8Array {
  try {
    return codec.encode(deadline, values)
  } catch (err) {
    if (err instanceof SessionError) throw err
    throw new SessionError('ERR_CODEC', `cannot encode session: ${(err as Error).message}`, {
      cause: err,
    })
  }
}
