const encoder = new TextEncoder()

/**
 * A stored value as bytes: a byte array as it is, anything else (TEXT written by another tool, a
 * client that returned a string) as its UTF-8 encoding.
 */
export function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value
  return encoder.encode(String(value))
}

/** `data` as a Buffer over the same memory (no copy), for drivers that bind a Buffer as binary. */
export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
