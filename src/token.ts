import { createHash, randomFillSync } from 'node:crypto'

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/
const TOKEN_BYTES = 32
// One CSPRNG call fills 128 tokens' worth of bytes; each byte is handed out once, then refilled.
const pool = Buffer.allocUnsafe(TOKEN_BYTES * 128)
let offset = pool.length

/** Returns a new session token: 32 random bytes as unpadded base64url, 43 characters, as SCS. */
export function generateToken(): string {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const token = pool.toString('base64url', offset, offset + TOKEN_BYTES)
  offset += TOKEN_BYTES
  return token
}

/** True when `value` is a string with the shape of a token sessionkit issues; anything else (undefined included) never reaches a store. */
export function isValidToken(value: unknown): value is string {
  return typeof value === 'string' && value.length === 43 && TOKEN_PATTERN.test(value)
}

/** The store key for a token under `hashTokenInStore`: unpadded base64url of its SHA-256, as SCS. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
