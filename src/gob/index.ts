import type { Codec } from '../codec.js'
import { jsonCodec } from '../codec.js'
import { SessionError } from '../errors.js'
import { decodeSession } from './decode.js'
import { encodeSession } from './encode.js'

export { GoComplex, GoValues } from './types.js'

/**
 * Go SCS's `GobCodec{}`, byte-compatible, so a Go SCS app and sessionkit share sessions: each
 * blob is a fresh gob stream of `{Deadline time.Time; Values map[string]interface{}}`. Decoding
 * gives strings, booleans, numbers (BigInt beyond ±2^53), Uint8Array for `[]byte`, Date for
 * `time.Time`, plain objects for `map[string]interface{}`, arrays for `[]interface{}` and
 * {@link GoComplex} for complex numbers; a Go struct of the app's own is an `ERR_CODEC` naming it.
 * Encoding writes integers as Go `int`, other numbers as `float64`, bigints as `int64` (`uint64`
 * above it), and keeps the Go type of every value read from Go and left unchanged.
 *
 * @example
 * const sessions = new SessionManager({ store: openSQLiteStore('sessions.db'), codec: gobCodec })
 */
export const gobCodec: Codec = {
  encode(deadline, values) {
    try {
      return encodeSession(deadline, values)
    } catch (err) {
      throw new SessionError(
        'ERR_CODEC',
        `gobCodec cannot encode the session: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    }
  },
  decode(data) {
    try {
      return decodeSession(data)
    } catch (err) {
      throw new SessionError(
        'ERR_CODEC',
        `stored session data is not a Go SCS gob session this codec can read (${(err as Error).message})`,
        { cause: err },
      )
    }
  },
}

/**
 * For a move between codecs: reads gob sessions and jsonCodec sessions alike (jsonCodec's begin
 * with `{`, which no SCS gob stream does) and writes each commit with `write`. Rows of both kinds
 * then keep working in one store, and each moves to `write`'s format when its session next
 * changes.
 *
 * @example
 * new SessionManager({ store, codec: mixedCodec(gobCodec) }) // Node takes over from Go, writing gob
 */
export function mixedCodec(write: Codec): Codec {
  return {
    encode: (deadline, values) => write.encode(deadline, values),
    decode: (data) => (data[0] === 0x7b ? jsonCodec.decode(data) : gobCodec.decode(data)),
  }
}
