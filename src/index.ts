export type { Codec, SessionRecord } from './codec.ts'
export { jsonCodec } from './codec.ts'
export type { CookieOptions, SameSite } from './cookie.ts'
export type { SessionErrorCode } from './errors.ts'
export { SessionError, StoreError } from './errors.ts'
export type { MemoryStoreOptions } from './memory-store.ts'
export { MemoryStore } from './memory-store.ts'
export type {
  CacheControlMode,
  ErrorHandler,
  SessionManagerOptions,
  UndecodableMode,
} from './options.ts'
export type { SessionData, SessionKey, SessionStatus } from './session.ts'
export { REMEMBER_ME_KEY, Session, ZERO_TIME } from './session.ts'
export type { CommitResult } from './session-manager.ts'
export { SessionManager } from './session-manager.ts'
export type { CommitMode, IterableStore, Store } from './store.ts'
export { isIterableStore } from './store.ts'
export { generateToken, hashToken, isValidToken } from './token.ts'
