import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonCodec } from '../../src/index.ts'

const DEADLINE = new Date('2024-01-02T15:04:05.123Z')
const roundTrip = (values: Record<string, unknown>) =>
  jsonCodec.decode(jsonCodec.encode(DEADLINE, new Map(Object.entries(values))))

describe('jsonCodec', () => {
  it('round-trips the deadline to the millisecond', () => {
    expect(roundTrip({}).deadline.getTime()).toBe(DEADLINE.getTime())
  })

  it('round-trips JSON values plus Date, Uint8Array, BigInt, Map, Set, undefined, -0 and non-finite numbers', () => {
    const values = {
      s: 'str',
      n: 1.5,
      b: true,
      nil: null,
      arr: [1, 'two', { three: 3 }],
      obj: { nested: { deep: [true] } },
      date: new Date('2020-02-02T02:02:02.002Z'),
      bytes: new Uint8Array([0, 1, 254, 255]),
      big: 12345678901234567890n,
      map: new Map<unknown, unknown>([
        ['k', new Date(0)],
        [1, 'one'],
      ]),
      set: new Set([1, 'a', 3n]),
      undef: undefined,
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      nestedNegZero: { n: [-0] },
      tagLike: { $t: 'Date', v: 5 },
    }
    const { values: out } = roundTrip(values)
    for (const [key, value] of Object.entries(values)) expect(out.get(key)).toEqual(value)
    expect(out.get('bytes')).toBeInstanceOf(Uint8Array)
    expect(out.get('date')).toBeInstanceOf(Date)
    expect(out.has('undef')).toBe(true)
    expect(Object.is(out.get('negZero'), -0)).toBe(true)
  })

  it('keeps plain data untagged so the stored bytes stay readable JSON', () => {
    const bytes = jsonCodec.encode(DEADLINE, new Map([['message', 'Hello from a session!']]))
    expect(new TextDecoder().decode(bytes)).toBe(
      `{"d":${DEADLINE.getTime()},"v":{"message":"Hello from a session!"}}`,
    )
  })

  it('refuses a class instance at encode time, naming the key and the class', () => {
    class User {
      name = 'ada'
    }
    expect(() => jsonCodec.encode(DEADLINE, new Map([['user', new User()]]))).toThrow(
      expect.objectContaining({
        code: 'ERR_CODEC',
        message: expect.stringMatching(/"user".*User/),
      }),
    )
  })

  it('refuses functions, symbols and cycles, naming the key', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const [key, value] of [
      ['fn', () => 1],
      ['sym', Symbol('s')],
      ['cyc', cyclic],
    ] as const) {
      expect(() => jsonCodec.encode(DEADLINE, new Map([[key, value]]))).toThrow(`"${key}"`)
    }
  })

  it('never lets a __proto__ key in stored data change a prototype', () => {
    const stored = new TextEncoder().encode(
      '{"d":1,"t":1,"v":{"__proto__":{"polluted":true},"x":{"__proto__":{"polluted":true},"$t":"object","v":{"__proto__":{"polluted":1}}}}}',
    )
    const { values } = jsonCodec.decode(stored)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(values.get('__proto__'))).toBe(Object.prototype)
    const x = values.get('x') as object
    expect(Object.getPrototypeOf(x)).toBe(Object.prototype)
    expect(Object.hasOwn(x, '__proto__')).toBe(true)
  })

  it('round-trips an own __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"a":1},"b":2}')
    const out = roundTrip({ value }).values.get('value') as object
    expect(Object.hasOwn(out, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
  })

  it('throws ERR_CODEC for bytes that are not its data', () => {
    for (const bad of [
      '',
      'not json',
      '[]',
      '{"d":"x","v":{}}',
      '{"d":1,"t":1,"v":{"a":{"$t":"Nope"}}}',
    ]) {
      expect(() => jsonCodec.decode(new TextEncoder().encode(bad))).toThrow(
        expect.objectContaining({ code: 'ERR_CODEC' }),
      )
    }
    expect(() => jsonCodec.decode(new Uint8Array([0xff, 0xfe]))).toThrow(
      expect.objectContaining({ code: 'ERR_CODEC' }),
    )
  })

  it('round-trips any JSON-like value (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.oneof(fc.jsonValue(), fc.date({ noInvalidDate: true }), fc.bigInt(), fc.uint8Array()),
        ),
        (dict) => {
          const { values } = roundTrip(dict)
          expect(Object.fromEntries(values)).toEqual(dict)
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    )
  })
})
