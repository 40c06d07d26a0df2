import type { Backend, StoredSession } from './backend.js'
import { formatCount, type Io } from './format.js'

/**
 * `sessionkit import`: writes each line of `export`'s output read from stdin through `backend`,
 * skipping expired sessions and (unless `replace`) sessions already there; a line that is not one
 * stops the import, naming the line. Prints the counts; resolves the exit status.
 */
export async function importSessions(
  backend: Backend,
  io: Io,
  replace: boolean,
  json: boolean,
): Promise<number> {
  const counts = { written: 0, skipped: 0, expired: 0 }
  let line = 0
  for await (const text of io.lines()) {
    line++
    if (text.trim() === '') continue
    const session = parseLine(text, line)
    if (session.expiresAt.getTime() <= Date.now()) {
      counts.expired++
      continue
    }
    if (await backend.write(session, replace)) counts.written++
    else counts.skipped++
  }
  if (json) io.out(JSON.stringify(counts))
  else {
    io.out(
      `imported ${formatCount(counts.written)}, skipped ${formatCount(counts.skipped)} already there${replace ? '' : ' (--replace overwrites them)'}, ${formatCount(counts.expired)} expired`,
    )
  }
  return 0
}

// One line of `export`'s output; a line that is not one stops the import, naming the line.
function parseLine(text: string, line: number): StoredSession {
  let row: unknown
  try {
    row = JSON.parse(text)
  } catch {
    throw new Error(`line ${line} is not JSON; nothing after it was imported`)
  }
  const { key, expiresAt, data, owner } = (row ?? {}) as Record<string, unknown>
  const expiry = typeof expiresAt === 'string' ? new Date(expiresAt) : new Date(Number.NaN)
  if (
    typeof key !== 'string' ||
    key === '' ||
    typeof data !== 'string' ||
    Number.isNaN(expiry.getTime())
  ) {
    throw new Error(
      `line ${line} lacks key, expiresAt or data (as sessionkit export writes them); nothing after it was imported`,
    )
  }
  const session: StoredSession = { key, data: Buffer.from(data, 'base64'), expiresAt: expiry }
  if (typeof owner === 'string') session.owner = owner
  return session
}
