import type { IncomingMessage } from 'node:http'

/** The largest form body the demo reads; a name fits many times over. */
export const MAX_FORM_BYTES = 4096

/**
 * Reads an `application/x-www-form-urlencoded` body. Resolves `undefined` when the body is larger
 * than {@link MAX_FORM_BYTES}: the rest is drained unread, so the caller can still answer 413.
 */
export function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_FORM_BYTES) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > MAX_FORM_BYTES) resolve(undefined)
      else resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
    })
    req.on('error', reject)
  })
}
