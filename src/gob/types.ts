/** A Go complex number read from, or to be written to, a gob session (complex64 or complex128). */
export class GoComplex {
  constructor(
    readonly real: number,
    readonly imag: number,
  ) {}
}

/**
 * The values of a session gobCodec decoded: a Map that also remembers each value's Go type, so
 * that a value the application left alone is written back as the same Go type (an `int64` stays
 * `int64`, a `uint8` stays `uint8`) and Go's typed getters keep working on it.
 */
export class GoValues extends Map<string, unknown> {
  /** key → [the Go type's name, the value as decoded]; used only while the value is unchanged. */
  readonly goTypes = new Map<string, [string, unknown]>()
}

// Go's predefined gob type ids (encoding/gob's documentation).
export const BOOL = 1
export const INT = 2
export const UINT = 3
export const FLOAT = 4
export const BYTES = 5
export const STRING = 6
export const COMPLEX = 7
export const INTERFACE = 8
/** The first id a stream may define; the ids below are Go's own. */
export const FIRST_USER_ID = 64

/** A type a gob stream defined, as the decoder needs it. */
export type WireType =
  | { kind: 'struct'; name: string; fields: { name: string; id: number }[] }
  | { kind: 'map'; name: string; key: number; elem: number }
  | { kind: 'slice'; name: string; elem: number }
  | { kind: 'array'; name: string; elem: number; len: number }
  | { kind: 'encoder'; name: string }

/** The Go integer and float type names whose values travel as gob's int, uint and float. */
export const SIGNED = new Set(['int', 'int8', 'int16', 'int32', 'int64'])
export const UNSIGNED = new Set(['uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr'])
export const FLOATS = new Set(['float32', 'float64'])
export const COMPLEXES = new Set(['complex64', 'complex128'])
