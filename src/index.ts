export type { SessionBridge } from './bridge.js'
export type { Codec, SessionRecord } from './codec.js'
export { jsonCodec } from './codec.js'
export type { CookieOptions, SameSite } from './cookie.js'
export type { SessionErrorCode } from './errors.js'
export { SessionError, StoreError } from './errors.js'
export type { SessionEvents, SessionListener } from './events.js'
export type { MemoryStoreOptions } from './memory-store.js'
export { MemoryStore } from './memory-store.js'
export type {
  CacheControlMode,
  ErrorHandler,
  SessionManagerOptions,
  UndecodableMode,
} from './options.js'
export type { Owner, SessionInfo } from './owners.js'
export type { HeaderNames, HeaderSink } from './response-headers.js'
export { writeSessionHeaders } from './response-headers.js'
export type { RefusedReason, SessionData, SessionKey, SessionStatus } from './session.js'
export { IDLE_TIMEOUT_KEY, REMEMBER_ME_KEY, Session, ZERO_TIME } from './session.js'
export type { CommitResult, IterateResult } from './session-manager.js'
export { SessionManager } from './session-manager.js'
export type {
  CommitMode,
  CompareAndSetStore,
  DeviceInfo,
  EndingStore,
  EndReason,
  ExpiryEventsStore,
  IterableStore,
  OwnedSession,
  OwnerIndexStore,
  PartialCapability,
  Store,
  StoreCapabilities,
  StoreCapability,
  TouchStore,
} from './store.js'
export {
  capabilitiesOf,
  isCompareAndSetStore,
  isEndingStore,
  isExpiryEventsStore,
  isIterableStore,
  isOwnerIndexStore,
  isTouchStore,
  storeCapabilities,
} from './store.js'
export { generateToken, hashToken, isValidToken } from './token.js'
