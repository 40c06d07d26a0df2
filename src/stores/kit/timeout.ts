/** The error a store operation's driver call rejects with when it outlives the store's `timeout`. */
export class OperationTimeoutError extends Error {
  constructor(server: string, ms: number) {
    super(`no answer from ${server} within ${ms} ms`)
    this.name = 'OperationTimeoutError'
  }
}

/**
 * Settles like `promise`, or rejects with an OperationTimeoutError after `ms`: a driver that queues
 * commands while its server is down would otherwise leave the request waiting. A late settlement
 * of `promise` is ignored, so it never becomes an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, server: string): Promise<T> {
  // One promise and one timer per call: this runs on every store operation.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new OperationTimeoutError(server, ms)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}
