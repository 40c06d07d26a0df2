/** A string's UTF-8 bytes, as a store receives session data. */
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** A Date `ms` from now (an expiry). */
export const inMs = (ms: number): Date => new Date(Date.now() + ms)
