/** True when two byte arrays hold the same bytes (an encoded session compared with a stored one). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0
}
