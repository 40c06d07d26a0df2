import type { CommitMode, EndReason, Store } from '../../src/index.ts'
import { MemoryStore } from '../../src/index.ts'

/** One recorded store call. */
export type StoreCall = [op: string, key: string, mode?: CommitMode]

/** A MemoryStore that records every call, for asserting which store I/O a request made. */
export class RecordingStore extends MemoryStore {
  readonly calls: StoreCall[] = []

  override async find(key: string) {
    this.calls.push(['find', key])
    return super.find(key)
  }

  override async commit(key: string, data: Uint8Array, expiry: Date, mode?: CommitMode) {
    this.calls.push(['commit', key, mode])
    return super.commit(key, data, expiry, mode)
  }

  override async delete(key: string) {
    this.calls.push(['delete', key])
    return super.delete(key)
  }

  override async touch(key: string, expiry: Date) {
    this.calls.push(['touch', key])
    return super.touch(key, expiry)
  }

  override async replace(key: string, expected: Uint8Array, data: Uint8Array, expiry: Date) {
    this.calls.push(['replace', key])
    return super.replace(key, expected, data, expiry)
  }

  override async end(key: string, reason: EndReason, until: Date) {
    this.calls.push(['end', key])
    return super.end(key, reason, until)
  }

  override async ended(key: string) {
    this.calls.push(['ended', key])
    return super.ended(key)
  }

  ops(): string[] {
    return this.calls.map(([op]) => op)
  }
}

/** A store whose chosen operations fail the way a dead database does: for failure injection only. */
export function failingStore(
  failOn: ReadonlyArray<keyof Store>,
  inner: Store = new MemoryStore({ cleanupInterval: 0 }),
): Store {
  // A plain driver-style error: the manager must wrap it in a StoreError with it as the cause.
  const boom = (op: string) =>
    Promise.reject(
      Object.assign(new Error(`${op}: connect ECONNREFUSED`), { code: 'ECONNREFUSED' }),
    )
  return {
    find: (key) => (failOn.includes('find') ? boom('find') : inner.find(key)),
    commit: (key, data, expiry, mode) =>
      failOn.includes('commit') ? boom('commit') : inner.commit(key, data, expiry, mode),
    delete: (key) => (failOn.includes('delete') ? boom('delete') : inner.delete(key)),
  }
}
