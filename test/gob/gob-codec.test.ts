import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GoComplex, GoValues, gobCodec, mixedCodec } from '../../src/gob/index.ts'
import { GobWriter } from '../../src/gob/wire.ts'
import { jsonCodec, REMEMBER_ME_KEY, SessionManager } from '../../src/index.ts'

interface Vector {
  description: string
  deadline: string
  values: string
  hex: string
  length: number
  note?: string
}

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/gob-vectors.json', import.meta.url), 'utf8'),
) as Vector[]
const vector = (description: string): Uint8Array => {
  const v = vectors.find((x) => x.description === description)
  if (v === undefined) throw new Error(`no vector "${description}"`)
  return Uint8Array.from(Buffer.from(v.hex, 'hex'))
}
const DEADLINE = Date.parse('2026-11-25T12:00:00Z')
const AT = Date.parse('2026-11-25T11:30:15.123Z')
const plain = (values: Map<string, unknown>) => Object.fromEntries(values)

// What each of Go's blobs holds, as sessionkit reads it.
const expected: Record<string, Record<string, unknown>> = {
  'empty session (no values)': {},
  "string: the seed's /put": { message: 'Hello from a session!' },
  int: { n: 42 },
  'int (negative)': { n: -1 },
  int64: { n: 42 },
  bool: { b: true },
  'bool: SCS RememberMe key': { [REMEMBER_ME_KEY]: true },
  float64: { f: 3.5 },
  'float64 (0.1)': { f: 0.1 },
  '[]byte': { raw: Uint8Array.from([0, 1, 0xfe, 0xff]) },
  'time.Time (UTC, with nanoseconds)': { at: new Date(AT) },
  'time.Time (zone +01:00)': { at: new Date(Date.parse('2026-11-25T11:30:15Z')) },
  'nested map': { user: { id: 1, name: 'ann' } },
  'mixed: string, int, bool, float64, []byte, time.Time in one session': {
    s: 'hi',
    i: 7,
    b: false,
    f: -2.25,
    raw: new TextEncoder().encode('ab'),
    at: new Date(AT),
  },
}

describe('gobCodec against blobs Go SCS v2.9.0 wrote', () => {
  it.each(Object.keys(expected))('decodes "%s" to its values and deadline', (description) => {
    const record = gobCodec.decode(vector(description))
    expect(record.deadline.getTime()).toBe(DEADLINE)
    const values = plain(record.values)
    // Nested maps come back as prototype-less objects; compare their contents.
    expect(
      JSON.parse(JSON.stringify(values, (_k, v) => (v instanceof Uint8Array ? [...v] : v))),
    ).toEqual(
      JSON.parse(
        JSON.stringify(expected[description], (_k, v) => (v instanceof Uint8Array ? [...v] : v)),
      ),
    )
    for (const [k, v] of Object.entries(expected[description] ?? {})) {
      if (v instanceof Date) expect((values[k] as Date).getTime()).toBe(v.getTime())
      if (v instanceof Uint8Array) expect(values[k]).toBeInstanceOf(Uint8Array)
    }
  })

  it('keeps a time.Time’s instant to the millisecond, losing its nanoseconds and zone (documented)', () => {
    for (const description of ['time.Time (UTC, with nanoseconds)', 'time.Time (zone +01:00)']) {
      const record = gobCodec.decode(vector(description))
      const bytes = gobCodec.encode(record.deadline, record.values)
      expect(bytes.length).toBe(vector(description).length)
      const again = gobCodec.decode(bytes).values.get('at') as Date
      expect(again.getTime()).toBe((record.values.get('at') as Date).getTime())
    }
  })

  it.each(
    Object.keys(expected).filter((d) => !d.startsWith('mixed') && !d.startsWith('time.Time')),
  )('re-encodes "%s" to the exact bytes Go wrote', (description) => {
    // One-key maps have one order, so Go's bytes are the only right answer.
    const bytes = vector(description)
    const record = gobCodec.decode(bytes)
    expect(Buffer.from(gobCodec.encode(record.deadline, record.values)).toString('hex')).toBe(
      Buffer.from(bytes).toString('hex'),
    )
  })

  it('writes values the application put as the Go types its typed getters expect', () => {
    const at = new Date(AT)
    const values = new Map<string, unknown>([['message', 'Hello from a session!']])
    expect(Buffer.from(gobCodec.encode(new Date(DEADLINE), values))).toEqual(
      Buffer.from(vector("string: the seed's /put")),
    )
    for (const [description, value] of [
      ['int', 42],
      ['bool', true],
      ['float64', 3.5],
      ['float64 (0.1)', 0.1],
    ] as const) {
      const key = description.startsWith('float') ? 'f' : description === 'bool' ? 'b' : 'n'
      expect(Buffer.from(gobCodec.encode(new Date(DEADLINE), new Map([[key, value]])))).toEqual(
        Buffer.from(vector(description)),
      )
    }
    expect(
      Buffer.from(gobCodec.encode(new Date(DEADLINE), new Map([['n', 42n]]))).toString('hex'),
    ).toBe(Buffer.from(vector('int64')).toString('hex'))
    // A Date has no nanoseconds: Go reads time.Time, the instant to the millisecond.
    const decoded = gobCodec.decode(gobCodec.encode(new Date(DEADLINE), new Map([['at', at]])))
    expect((decoded.values.get('at') as Date).getTime()).toBe(AT)
  })

  it('decodes the mixed session Go wrote in any key order, and reads back what it writes of it', () => {
    const record = gobCodec.decode(
      vector('mixed: string, int, bool, float64, []byte, time.Time in one session'),
    )
    const again = gobCodec.decode(gobCodec.encode(record.deadline, record.values))
    expect(plain(again.values)).toEqual(plain(record.values))
  })

  it('keeps the Go type of a value read from Go and left alone, and writes a changed one as int', () => {
    const record = gobCodec.decode(vector('int64'))
    expect(record.values).toBeInstanceOf(GoValues)
    const kept = gobCodec.encode(record.deadline, record.values)
    expect(Buffer.from(kept).toString('hex')).toContain(Buffer.from('int64').toString('hex'))
    record.values.set('n', 43)
    const changed = Buffer.from(gobCodec.encode(record.deadline, record.values)).toString('hex')
    expect(changed).not.toContain(Buffer.from('int64').toString('hex'))
    expect(gobCodec.decode(Buffer.from(changed, 'hex')).values.get('n')).toBe(43)
  })

  it('reads int64 and uint64 beyond ±2^53 as BigInt and writes them back', () => {
    const big = 2n ** 60n + 1n
    const huge = 2n ** 64n - 1n
    const record = gobCodec.decode(
      gobCodec.encode(
        new Date(DEADLINE),
        new Map<string, unknown>([
          ['i', -big],
          ['u', huge],
        ]),
      ),
    )
    expect(record.values.get('i')).toBe(-big)
    expect(record.values.get('u')).toBe(huge)
    expect(() => gobCodec.encode(new Date(DEADLINE), new Map([['x', 2n ** 64n]]))).toThrow(
      /session key "x".*does not fit/,
    )
  })

  it('carries complex numbers, nested arrays and nil', () => {
    const values = new Map<string, unknown>([
      ['c', new GoComplex(1.5, -2)],
      ['list', [1, 'two', [true], { k: null }]],
      ['none', null],
    ])
    const back = gobCodec.decode(gobCodec.encode(new Date(DEADLINE), values)).values
    expect(back.get('c')).toEqual(new GoComplex(1.5, -2))
    expect(JSON.stringify(back.get('list'))).toBe('[1,"two",[true],{"k":null}]')
    expect(back.get('none')).toBeNull()
  })

  it('refuses what Go could not read, naming the key, and never writes part of a session', () => {
    class Cart {}
    expect(() => gobCodec.encode(new Date(DEADLINE), new Map([['cart', new Cart()]]))).toThrow(
      expect.objectContaining({
        code: 'ERR_CODEC',
        message: expect.stringMatching(/"cart".*Cart/),
      }),
    )
    expect(() => gobCodec.encode(new Date(DEADLINE), new Map([['s', new Set([1])]]))).toThrow(
      /"s".*Set/,
    )
  })

  it('gives ERR_CODEC, never a crash, for garbage, truncations and a Go struct of the app’s own', () => {
    const good = vector('mixed: string, int, bool, float64, []byte, time.Time in one session')
    for (let cut = 0; cut < good.length; cut++) {
      expect(() => gobCodec.decode(good.subarray(0, cut))).toThrow(
        expect.objectContaining({ code: 'ERR_CODEC' }),
      )
    }
    expect(() => gobCodec.decode(goStructSession())).toThrow(
      expect.objectContaining({
        code: 'ERR_CODEC',
        message: expect.stringMatching(/Go type main\.User \(a struct\)/),
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          gobCodec.decode(bytes)
        } catch (err) {
          expect((err as { code?: string }).code).toBe('ERR_CODEC')
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    )
  })

  it('round-trips random sessions of the types both sides share', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
      fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        .filter((b) => b < -(2n ** 53n) || b > 2n ** 53n),
      fc.uint8Array({ maxLength: 20 }),
      fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 0, 1)), noInvalidDate: true }),
    )
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('any'), { maxLength: 3 }),
      object: fc.dictionary(fc.string(), tie('any'), { maxKeys: 3 }),
    })).any
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value, { maxKeys: 5 }), (dict) => {
        const values = new Map(Object.entries(dict))
        const back = gobCodec.decode(gobCodec.encode(new Date(DEADLINE), values))
        expect(normalise(plain(back.values))).toEqual(normalise(dict))
        expect(back.deadline.getTime()).toBe(DEADLINE)
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    )
  })
})

// What Go writes for Values {"user": main.User{Name: "ann"}} after gob.Register(main.User{}): the
// empty session's three type definitions, one for the struct, then the value.
function goStructSession(): Uint8Array {
  const empty = vector('empty session (no values)')
  const head = empty.subarray(0, empty.length - 23) // the three definitions, without the value
  const out = new GobWriter()
  out.raw(head)
  const def = new GobWriter()
  def.int(-68)
  for (const b of [3, 1, 1]) def.uint(b) // StructT, CommonType, Name
  def.string('User')
  def.uint(1)
  def.int(68)
  def.uint(0)
  def.uint(1) // Field
  def.uint(1)
  def.uint(1)
  def.string('Name')
  def.uint(1)
  def.int(6)
  def.uint(0)
  def.uint(0)
  def.uint(0)
  out.bytes(def.take())
  const value = new GobWriter()
  value.int(65)
  value.uint(2) // Values (no Deadline)
  value.uint(1)
  value.string('user')
  value.string('main.User')
  value.int(68)
  const inner = new GobWriter()
  inner.uint(1)
  inner.string('ann')
  inner.uint(0)
  value.bytes(inner.take())
  value.uint(0)
  out.bytes(value.take())
  return out.take()
}

// Objects come back prototype-less; compare structure, keeping -0, bytes and Dates apart.
function normalise(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] }
  if (v instanceof Date) return { date: v.getTime() }
  if (Array.isArray(v)) return v.map(normalise)
  if (typeof v === 'number' && Object.is(v, -0)) return 0
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]))
  }
  return v
}

describe('mixedCodec', () => {
  it('reads gob and JSON rows alike and writes the codec it was given', async () => {
    const codec = mixedCodec(gobCodec)
    expect(codec.decode(vector("string: the seed's /put")).values.get('message')).toBe(
      'Hello from a session!',
    )
    const json = jsonCodec.encode(new Date(DEADLINE), new Map([['n', 1]]))
    expect(codec.decode(json).values.get('n')).toBe(1)
    expect(Buffer.from(codec.encode(new Date(DEADLINE), new Map([['n', 42]])))).toEqual(
      Buffer.from(vector('int')),
    )
  })

  it('lets a manager iterate a store holding both kinds of rows', async () => {
    const sessions = new SessionManager<{ n: number; message: string }>({
      codec: mixedCodec(gobCodec),
    })
    const store = sessions.store
    await store.commit(
      'a'.repeat(43),
      vector("string: the seed's /put"),
      new Date(Date.now() + 60_000),
    )
    await store.commit(
      'b'.repeat(43),
      jsonCodec.encode(new Date(Date.now() + 60_000), new Map([['n', 1]])),
      new Date(Date.now() + 60_000),
    )
    const seen: string[] = []
    const result = await sessions.iterate((s) => {
      seen.push(s.keys().join(','))
    })
    expect(seen.sort()).toEqual(['message', 'n'])
    expect(result.undecodable).toEqual([])
  })
})
