import { ZERO_TIME } from '../session.js'
import {
  BOOL,
  BYTES,
  COMPLEX,
  COMPLEXES,
  FLOAT,
  FLOATS,
  GoComplex,
  GoValues,
  INT,
  INTERFACE,
  SIGNED,
  STRING,
  UINT,
  UNSIGNED,
} from './types.js'
import { GobWriter } from './wire.js'

// The ids this encoder gives the types it defines, in the order Go's encoder defines them for
// SCS's struct in a fresh stream; any ids of 64 and up would do, since each stream says its own.
const SESSION_ID = 65
const TIME_ID = 66
const MAP_ID = 67
const SLICE_ID = 68
const MAP_NAME = 'map[string]interface {}'
const SLICE_NAME = '[]interface {}'
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n

/** Why a value could not be written, naming its session key. */
export class GobEncodeError extends Error {
  override name = 'GobEncodeError'
}

// The three definitions every SCS blob starts with, as Go's encoder writes them: the session
// struct, time.Time (a GobEncoder named Time), and map[string]interface{}.
function definitions(): Uint8Array {
  const out = new GobWriter()
  message(out, (w) => {
    w.int(-SESSION_ID)
    w.uint(3) // wireType.StructT
    w.uint(1) // structType.CommonType
    w.uint(2) // CommonType.Id (the anonymous struct has no Name)
    w.int(SESSION_ID)
    w.uint(0)
    w.uint(1) // structType.Field
    w.uint(2)
    for (const [name, id] of [
      ['Deadline', TIME_ID],
      ['Values', MAP_ID],
    ] as const) {
      w.uint(1)
      w.string(name)
      w.uint(1)
      w.int(id)
      w.uint(0)
    }
    w.uint(0)
    w.uint(0)
  })
  message(out, (w) => {
    w.int(-TIME_ID)
    w.uint(5) // wireType.GobEncoderT
    commonType(w, 'Time', TIME_ID)
    w.uint(0)
    w.uint(0)
  })
  message(out, (w) => {
    w.int(-MAP_ID)
    w.uint(4) // wireType.MapT
    commonType(w, MAP_NAME, MAP_ID)
    w.uint(1)
    w.int(STRING)
    w.uint(1)
    w.int(INTERFACE)
    w.uint(0)
    w.uint(0)
  })
  return out.take()
}

function sliceDefinition(out: GobWriter): void {
  message(out, (w) => {
    w.int(-SLICE_ID)
    w.uint(2) // wireType.SliceT
    commonType(w, SLICE_NAME, SLICE_ID)
    w.uint(1)
    w.int(INTERFACE)
    w.uint(0)
    w.uint(0)
  })
}

function commonType(w: GobWriter, name: string, id: number): void {
  w.uint(1)
  w.uint(1)
  w.string(name)
  w.uint(1)
  w.int(id)
  w.uint(0)
}

function message(out: GobWriter, body: (w: GobWriter) => void): void {
  const mark = out.mark()
  body(out)
  out.lengthFrom(mark)
}

/** The three type definitions every SCS session stream begins with, as Go writes them. */
export const HEADER = definitions()

interface Context {
  key: string
  usesSlice: boolean
  depth: number
}

/**
 * Writes a session as Go's `scs.GobCodec{}.Encode` does: a fresh gob stream holding the struct
 * `{Deadline time.Time; Values map[string]interface{}}`. Values keep the Go type they were read
 * with while unchanged ({@link GoValues}); others get the type Go's typed getters expect.
 */
export function encodeSession(deadline: Date, values: ReadonlyMap<string, unknown>): Uint8Array {
  const types = values instanceof GoValues ? values.goTypes : undefined
  const ctx: Context = { key: '', usesSlice: false, depth: 0 }
  const out = new GobWriter()
  out.raw(HEADER)
  const start = out.mark()
  out.int(SESSION_ID)
  let delta = 1
  // Gob leaves out zero fields; Go's zero time.Time is one.
  if (deadline.getTime() !== ZERO_TIME) {
    out.uint(delta)
    out.goTime(deadline.getTime())
  } else delta++
  out.uint(delta)
  out.uint(values.size)
  for (const [key, value] of values) {
    ctx.key = key
    out.string(key)
    const kept = types?.get(key)
    writeInterface(
      out,
      value,
      ctx,
      kept !== undefined && Object.is(kept[1], value) ? kept[0] : undefined,
    )
  }
  out.uint(0)
  out.lengthFrom(start)
  if (!ctx.usesSlice) return out.take()
  // A []interface{} was met: its definition must come before the value that uses it.
  const withSlice = new GobWriter()
  withSlice.raw(HEADER)
  sliceDefinition(withSlice)
  withSlice.raw(out.take().subarray(HEADER.length))
  return withSlice.take()
}

function writeInterface(w: GobWriter, value: unknown, ctx: Context, goType?: string): void {
  if (value === null || value === undefined) {
    w.uint(0) // a nil interface: an empty type name and nothing else
    return
  }
  if (++ctx.depth > 64) {
    throw new GobEncodeError(`session key "${ctx.key}": values nested too deeply`)
  }
  const kind = (goType === undefined ? undefined : keptKind(goType, value)) ?? kindOf(value, ctx)
  w.raw(kind.head)
  const mark = w.mark()
  w.uint(0) // a value that is not a struct is sent as a struct's only field
  kind.write(w, value, ctx)
  w.lengthFrom(mark)
  ctx.depth--
}

/** How one Go type is written: its name and id (pre-encoded) and its value's encoding. */
interface Kind {
  head: Uint8Array
  write(w: GobWriter, value: unknown, ctx: Context): void
}

function kind(name: string, id: number, write: Kind['write']): Kind {
  const w = new GobWriter()
  w.string(name)
  w.int(id)
  return { head: new Uint8Array(w.take()), write }
}

const writeInt: Kind['write'] = (w, v) => w.int(v as number | bigint)
const writeUint: Kind['write'] = (w, v) => w.uint(v as number | bigint)
const writeFloat: Kind['write'] = (w, v) => w.float(v as number)
const writeComplex: Kind['write'] = (w, v) => {
  w.float((v as GoComplex).real)
  w.float((v as GoComplex).imag)
}

const STRING_KIND = kind('string', STRING, (w, v) => w.string(v as string))
const BOOL_KIND = kind('bool', BOOL, (w, v) => w.uint(v ? 1 : 0))
const INT_KIND = kind('int', INT, writeInt)
const FLOAT64_KIND = kind('float64', FLOAT, writeFloat)
const INT64_KIND = kind('int64', INT, writeInt)
const UINT64_KIND = kind('uint64', UINT, writeUint)
const BYTES_KIND = kind('[]uint8', BYTES, (w, v) => w.bytes(v as Uint8Array))
const TIME_KIND = kind('time.Time', TIME_ID, (w, v) => w.goTime((v as Date).getTime()))
const COMPLEX_KIND = kind('complex128', COMPLEX, writeComplex)
const SLICE_KIND = kind(SLICE_NAME, SLICE_ID, (w, v, ctx) => {
  ctx.usesSlice = true
  const items = v as unknown[]
  w.uint(items.length)
  for (const item of items) writeInterface(w, item, ctx)
})
const MAP_KIND = kind(MAP_NAME, MAP_ID, (w, v, ctx) => {
  const entries = stringEntries(v, ctx)
  w.uint(entries.length)
  for (const [k, item] of entries) {
    w.string(k)
    writeInterface(w, item, ctx)
  }
})

// Go's other numeric types, for values read as one of them and left alone.
const KEPT = new Map<string, Kind>()
for (const name of SIGNED) KEPT.set(name, kind(name, INT, writeInt))
for (const name of UNSIGNED) KEPT.set(name, kind(name, UINT, writeUint))
for (const name of FLOATS) KEPT.set(name, kind(name, FLOAT, writeFloat))
for (const name of COMPLEXES) KEPT.set(name, kind(name, COMPLEX, writeComplex))

function keptKind(goType: string, value: unknown): Kind | undefined {
  const kept = KEPT.get(goType)
  if (kept === undefined) return undefined
  if (COMPLEXES.has(goType)) return value instanceof GoComplex ? kept : undefined
  if (FLOATS.has(goType)) return typeof value === 'number' ? kept : undefined
  return typeof value === 'number' || typeof value === 'bigint' ? kept : undefined
}

/** The Go type name the encoder gives `value` when it knows no other; '' for nil. */
export function defaultGoName(value: unknown): string {
  if (value === null || value === undefined) return ''
  switch (typeof value) {
    case 'string':
      return 'string'
    case 'boolean':
      return 'bool'
    case 'number':
      return Number.isSafeInteger(value) ? 'int' : 'float64'
    case 'bigint':
      return value >= INT64_MIN && value <= INT64_MAX ? 'int64' : 'uint64'
  }
  if (value instanceof Uint8Array) return '[]uint8'
  if (value instanceof Date) return 'time.Time'
  if (value instanceof GoComplex) return 'complex128'
  return Array.isArray(value) ? SLICE_NAME : MAP_NAME
}

function kindOf(value: unknown, ctx: Context): Kind {
  switch (typeof value) {
    case 'string':
      return STRING_KIND
    case 'boolean':
      return BOOL_KIND
    case 'number':
      return Number.isSafeInteger(value) ? INT_KIND : FLOAT64_KIND
    case 'bigint':
      if (value >= INT64_MIN && value <= INT64_MAX) return INT64_KIND
      if (value >= 0n && value <= UINT64_MAX) return UINT64_KIND
      throw new GobEncodeError(
        `session key "${ctx.key}": ${value} does not fit a Go int64 or uint64`,
      )
  }
  if (value instanceof Uint8Array) return BYTES_KIND
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new GobEncodeError(`session key "${ctx.key}": invalid Date`)
    }
    return TIME_KIND
  }
  if (value instanceof GoComplex) return COMPLEX_KIND
  if (Array.isArray(value)) return SLICE_KIND
  return MAP_KIND
}

function stringEntries(value: unknown, ctx: Context): [string, unknown][] {
  if (value instanceof Map) {
    const out: [string, unknown][] = []
    for (const [k, v] of value) {
      if (typeof k !== 'string') {
        throw new GobEncodeError(
          `session key "${ctx.key}": a Map with non-string keys has no Go form here`,
        )
      }
      out.push([k, v])
    }
    return out
  }
  if (typeof value === 'object' && value !== null) {
    const proto = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) return Object.entries(value)
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
    throw new GobEncodeError(
      `session key "${ctx.key}": instances of ${name} have no Go form; store plain objects, arrays, strings, numbers, bigints, booleans, Dates or Uint8Arrays`,
    )
  }
  throw new GobEncodeError(`session key "${ctx.key}": a ${typeof value} has no Go form`)
}
