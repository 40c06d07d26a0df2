/** The stable codes a {@link SessionError} carries; match on `code`, never on the message. */
export type SessionErrorCode =
  | 'ERR_STORE'
  | 'ERR_CODEC'
  | 'ERR_NO_SESSION'
  | 'ERR_SESSION_SENT'
  | 'ERR_OPTIONS'
  | 'ERR_NOT_ITERABLE'
  | 'ERR_TOO_LARGE'

/** Every error sessionkit raises: a stable `code`, a message that says what to do, and the underlying `cause`. */
export class SessionError extends Error {
  /** The stable code: `ERR_STORE`, `ERR_CODEC`, `ERR_NO_SESSION`, `ERR_SESSION_SENT`, `ERR_OPTIONS`, `ERR_NOT_ITERABLE` or `ERR_TOO_LARGE`. */
  readonly code: SessionErrorCode

  constructor(code: SessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SessionError'
    this.code = code
  }
}

/** A store's system failure (a dead connection, a missing table, a full disk); `cause` holds the driver's error. */
export class StoreError extends SessionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORE', message, options)
    this.name = 'StoreError'
  }
}

/** Wraps anything a store threw as a StoreError, keeping one that already is. */
export function toStoreError(err: unknown, operation: string): StoreError {
  if (err instanceof StoreError) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new StoreError(`session store ${operation} failed: ${detail}`, { cause: err })
}
