import type { SessionRecord } from '../codec.js'
import { defaultGoName, HEADER } from './encode.js'
import {
  BOOL,
  BYTES,
  COMPLEX,
  FLOAT,
  GoComplex,
  GoValues,
  INT,
  INTERFACE,
  STRING,
  UINT,
  type WireType,
} from './types.js'
import { GobFormatError, GobReader } from './wire.js'

// Deep values are the product of a Go program's own data; a bound keeps a crafted blob from
// recursing the stack away.
const MAX_DEPTH = 64

/**
 * Reads one SCS session blob: a gob stream of type definitions and one value of the struct
 * `{Deadline time.Time; Values map[string]interface{}}`. Throws a GobFormatError naming what it
 * could not read (an unregistered Go struct, a truncated stream).
 */
export function decodeSession(data: Uint8Array): SessionRecord {
  const stream = new GobReader(data)
  // Nearly every blob, Go's and ours, opens with the same three definitions: parsed once.
  let types = stream.startsWith(HEADER) ? HEADER_TYPES : new Map<number, WireType>()
  while (!stream.done) {
    const message = stream.slice(stream.uint())
    const id = message.int()
    if (id < 0) {
      // The shared definitions are never changed: a stream that adds its own gets a copy.
      if (types === HEADER_TYPES) types = new Map(HEADER_TYPES)
      types.set(-id, readWireType(message))
      continue
    }
    const type = types.get(id)
    if (type?.kind !== 'struct') throw new GobFormatError('the session is not a gob struct')
    return readSession(message, type, types)
  }
  throw new GobFormatError(data.length === 0 ? 'EOF: empty data' : 'unexpected EOF: no value')
}

function readSession(
  r: GobReader,
  type: Extract<WireType, { kind: 'struct' }>,
  types: Map<number, WireType>,
): SessionRecord {
  // Gob leaves out zero fields: a missing Deadline is Go's zero time, missing Values an empty map.
  let deadline = new Date(-62_135_596_800_000)
  let values = new GoValues()
  let field = -1
  for (let delta = r.uint(); delta !== 0; delta = r.uint()) {
    field += delta
    const f = type.fields[field]
    if (f === undefined) throw new GobFormatError(`field ${field} out of range`)
    if (f.name === 'Deadline') deadline = readTime(r)
    else if (f.name === 'Values') values = readValues(r, f.id, types)
    else readValue(r, f.id, types, 0)
  }
  return { deadline, values }
}

function readTime(r: GobReader): Date {
  return r.goTime()
}

function readValues(r: GobReader, id: number, types: Map<number, WireType>): GoValues {
  const type = types.get(id)
  if (type?.kind !== 'map' || type.key !== STRING || type.elem !== INTERFACE) {
    throw new GobFormatError('Values is not a map[string]interface{}')
  }
  const values = new GoValues()
  const count = r.uint()
  for (let i = 0; i < count; i++) {
    const key = r.string()
    const [name, value] = readInterface(r, types, 1)
    values.set(key, value)
    // Only a type the encoder would not pick for this value by itself needs remembering.
    if (name !== defaultGoName(value)) values.goTypes.set(key, [name, value])
  }
  return values
}

/** An interface value: the concrete type's name, its id, then the value's bytes. */
function readInterface(
  r: GobReader,
  types: Map<number, WireType>,
  depth: number,
): [string, unknown] {
  const name = r.string()
  if (name === '') return ['', null]
  const id = r.int()
  const end = r.ahead(r.uint())
  const type = types.get(id)
  if (type?.kind === 'struct') {
    throw new GobFormatError(
      `the Go type ${name} (a struct) has no JavaScript form; store its fields as a map[string]interface{} instead`,
    )
  }
  if (type?.kind === 'encoder' && name !== 'time.Time') {
    throw new GobFormatError(`the Go type ${name} (its own gob encoding) has no JavaScript form`)
  }
  // A value that is not a struct is sent as if it were a struct's only field: a zero delta first.
  if (r.uint() !== 0) throw new GobFormatError(`malformed value of ${name}`)
  const value = readValue(r, id, types, depth)
  r.endAt(end)
  return [name, value]
}

function readValue(r: GobReader, id: number, types: Map<number, WireType>, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new GobFormatError('values nested too deeply')
  switch (id) {
    case BOOL:
      return r.uintAny() !== 0
    case INT:
      return r.intAny()
    case UINT:
      return r.uintAny()
    case FLOAT:
      return r.float()
    case BYTES:
      return r.bytes()
    case STRING:
      return r.string()
    case COMPLEX:
      return new GoComplex(r.float(), r.float())
    case INTERFACE:
      return readInterface(r, types, depth + 1)[1]
  }
  const type = types.get(id)
  if (type === undefined) throw new GobFormatError(`unknown gob type id ${id}`)
  switch (type.kind) {
    case 'encoder':
      if (type.name !== 'Time')
        throw new GobFormatError(`the Go type ${type.name} is not supported`)
      return readTime(r)
    case 'map': {
      const count = r.uint()
      if (type.key === STRING) {
        const out = Object.create(null) as Record<string, unknown>
        for (let i = 0; i < count; i++) {
          const key = r.string()
          out[key] = readValue(r, type.elem, types, depth + 1)
        }
        return out
      }
      const out = new Map<unknown, unknown>()
      for (let i = 0; i < count; i++) {
        const key = readValue(r, type.key, types, depth + 1)
        out.set(key, readValue(r, type.elem, types, depth + 1))
      }
      return out
    }
    case 'slice':
    case 'array': {
      const count = r.uint()
      const out: unknown[] = []
      for (let i = 0; i < count; i++) out.push(readValue(r, type.elem, types, depth + 1))
      return out
    }
    case 'struct':
      throw new GobFormatError(`the Go struct type ${type.name || '(anonymous)'} is not supported`)
  }
}

// The wire form of a type definition: wireType's fields ArrayT, SliceT, StructT, MapT,
// GobEncoderT, BinaryMarshalerT, TextMarshalerT, each a struct around a CommonType {Name, Id}.
function readWireType(r: GobReader): WireType {
  let type: WireType | undefined
  let field = -1
  for (let delta = r.uint(); delta !== 0; delta = r.uint()) {
    field += delta
    const fields = readStructFields(r, field)
    const name = fields.name
    switch (field) {
      case 0:
        type = { kind: 'array', name, elem: fields.elem, len: fields.len }
        break
      case 1:
        type = { kind: 'slice', name, elem: fields.elem }
        break
      case 2:
        type = { kind: 'struct', name, fields: fields.fields }
        break
      case 3:
        type = { kind: 'map', name, key: fields.key, elem: fields.elem }
        break
      case 4:
      case 5:
      case 6:
        type = { kind: 'encoder', name }
        break
      default:
        throw new GobFormatError(`unknown wire type field ${field}`)
    }
  }
  if (type === undefined) throw new GobFormatError('empty type definition')
  return type
}

interface TypeFields {
  name: string
  elem: number
  key: number
  len: number
  fields: { name: string; id: number }[]
}

// One of wireType's structs: CommonType first, then the kind's own fields, by field number.
function readStructFields(r: GobReader, kind: number): TypeFields {
  const out: TypeFields = { name: '', elem: 0, key: 0, len: 0, fields: [] }
  let field = -1
  for (let delta = r.uint(); delta !== 0; delta = r.uint()) {
    field += delta
    if (field === 0) {
      out.name = readCommonType(r)
    } else if (kind === 0) {
      if (field === 1) out.elem = r.int()
      else if (field === 2) out.len = r.int()
    } else if (kind === 1) {
      if (field === 1) out.elem = r.int()
    } else if (kind === 2) {
      if (field === 1) out.fields = readFieldTypes(r)
    } else if (kind === 3) {
      if (field === 1) out.key = r.int()
      else if (field === 2) out.elem = r.int()
    } else throw new GobFormatError(`unexpected field ${field} in a type definition`)
  }
  return out
}

function readCommonType(r: GobReader): string {
  let name = ''
  let field = -1
  for (let delta = r.uint(); delta !== 0; delta = r.uint()) {
    field += delta
    if (field === 0) name = r.string()
    else if (field === 1) r.int()
    else throw new GobFormatError(`unexpected field ${field} in CommonType`)
  }
  return name
}

function readFieldTypes(r: GobReader): { name: string; id: number }[] {
  const count = r.uint()
  const out: { name: string; id: number }[] = []
  for (let i = 0; i < count; i++) {
    const f = { name: '', id: 0 }
    let field = -1
    for (let delta = r.uint(); delta !== 0; delta = r.uint()) {
      field += delta
      if (field === 0) f.name = r.string()
      else if (field === 1) f.id = r.int()
      else throw new GobFormatError(`unexpected field ${field} in a struct field`)
    }
    out.push(f)
  }
  return out
}

function parseDefinitions(bytes: Uint8Array): Map<number, WireType> {
  const r = new GobReader(bytes)
  const types = new Map<number, WireType>()
  while (!r.done) {
    const message = r.slice(r.uint())
    types.set(-message.int(), readWireType(message))
  }
  return types
}

const HEADER_TYPES = parseDefinitions(HEADER)
