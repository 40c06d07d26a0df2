/** The error a store operation's driver call rejects with when it outlives the store's `timeout`. */
export class OperationTimeoutError extends Error {
  constructor(server: string, ms: number) {
    super(`no answer from ${server} within ${ms} ms`)
    this.name = 'OperationTimeoutError'
  }
}

/**
 * Settles like `promise`, or rejects with an OperationTimeoutError after `ms`: a driver that queues
 * commands while its server is down would otherwise leave the request waiting. A late rejection of
 * `promise` is swallowed, so it never becomes an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, server: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      promise.catch(() => {})
      reject(new OperationTimeoutError(server, ms))
    }, ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
