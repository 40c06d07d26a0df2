import { createHash, randomBytes } from 'node:crypto'

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** Returns a new session token: 32 random bytes as unpadded base64url, 43 characters, as SCS. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url')
}

/** True when `value` has the shape of a token sessionkit issues; anything else never reaches a store. */
export function isValidToken(value: string): boolean {
  return value.length === 43 && TOKEN_PATTERN.test(value)
}

/** The store key for a token under `hashTokenInStore`: unpadded base64url of its SHA-256, as SCS. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
