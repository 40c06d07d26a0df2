import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { jsonCodec } from '../codec.js'
import { mixedCodec } from '../gob/index.js'
import { handleOf } from '../owners.js'
import { hashToken } from '../token.js'
import type { Backend, StoredSession } from './backend.js'
import { codecOf } from './backend.js'
import { dim, formatBytes, formatCount, type Io, label, plain, table } from './format.js'
import { HELP, usageOf } from './help.js'
import { importSessions } from './import.js'

/** A mistake in how the command was called: exit code 2, with a message naming the argument. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Opens the store a URL names, for the options given (`create` only for import). */
export type OpenBackend = (
  url: string,
  options: { table?: string; prefix?: string; busyTimeout?: number; create: boolean },
) => Promise<Backend>

const COMMANDS = ['stats', 'list', 'show', 'prune', 'revoke', 'export', 'import'] as const
type Command = (typeof COMMANDS)[number]

// Which options each command takes; any other is a usage error naming it.
const ACCEPTS: Record<Command, readonly string[]> = {
  stats: [],
  list: ['owner', 'limit', 'show-tokens', 'hash-tokens'],
  show: ['hash-tokens'],
  prune: ['batch'],
  revoke: ['owner', 'except', 'hash-tokens'],
  export: [],
  import: ['replace'],
}
const STORE_OPTIONS = ['table', 'prefix', 'busy-timeout', 'json', 'help']

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  table: { type: 'string' },
  prefix: { type: 'string' },
  'busy-timeout': { type: 'string' },
  owner: { type: 'string' },
  limit: { type: 'string' },
  except: { type: 'string' },
  batch: { type: 'string' },
  replace: { type: 'boolean' },
  'show-tokens': { type: 'boolean' },
  'hash-tokens': { type: 'boolean' },
} as const

const decode = mixedCodec(jsonCodec).decode

/**
 * Runs `sessionkit <command> <store> …` with `argv` (the arguments after the program name) and
 * resolves its exit code: 0 done, 1 the store or the data failed, 2 bad usage.
 */
export async function run(argv: string[], io: Io, open: OpenBackend): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.err(`sessionkit: ${err.message}`)
    io.err(`Run 'sessionkit --help' for usage.`)
    return 2
  }
  if (parsed.help !== undefined) {
    io.out(parsed.help)
    return 0
  }
  const { command, url, rest, values } = parsed
  let backend: Backend | undefined
  try {
    backend = await open(url, {
      ...(values.table === undefined ? {} : { table: values.table }),
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
      ...(values['busy-timeout'] === undefined
        ? {}
        : { busyTimeout: positiveInt(values['busy-timeout'], 'busy-timeout', 5_000) }),
      create: command === 'import',
    })
    return await COMMAND_RUNNERS[command]({ backend, io, rest, values })
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`sessionkit ${command}: ${err.message}`)
      return 2
    }
    io.err(`sessionkit ${command}: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  } finally {
    await backend?.close().catch(() => {})
  }
}

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values']

function parse(
  argv: string[],
):
  | { help: string; command?: undefined; url?: undefined; rest?: undefined; values?: undefined }
  | { help?: undefined; command: Command; url: string; rest: string[]; values: Values } {
  let result: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>
  try {
    result = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    // parseArgs names the option in its message ("Unknown option '--x'").
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
  const { values, positionals } = result
  const [name, url, ...rest] = positionals
  if (name === undefined) {
    if (values.help === true) return { help: HELP.main }
    throw new UsageError('missing command: stats, list, show, prune, revoke, export or import')
  }
  if (!(COMMANDS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown command '${name}': use ${COMMANDS.join(', ')}`)
  }
  const command = name as Command
  if (values.help === true) return { help: HELP[command] }
  for (const option of Object.keys(values)) {
    if (!STORE_OPTIONS.includes(option) && !ACCEPTS[command].includes(option)) {
      throw new UsageError(`'--${option}' is not an option of ${command} (${usageOf(command)})`)
    }
  }
  if (url === undefined) throw new UsageError(`missing <store> (${usageOf(command)})`)
  const wanted = command === 'show' || (command === 'revoke' && values.owner === undefined) ? 1 : 0
  if (rest.length > wanted) {
    throw new UsageError(`unexpected argument '${rest[wanted]}' (${usageOf(command)})`)
  }
  if (rest.length < wanted) throw new UsageError(`missing <token|handle> (${usageOf(command)})`)
  return { command, url, rest, values }
}

interface Context {
  backend: Backend
  io: Io
  rest: string[]
  values: Values
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer, got '${value}'`)
  }
  return n
}

// The store key of a token: itself, or its hash for apps with hashTokenInStore.
const keyOf = (token: string, values: Values): string =>
  values['hash-tokens'] === true ? hashToken(token) : token

// What list prints (handleOf: 22 base64url characters). A token is 43, so a string is never
// both, and an exact store key is tried first anyway.
const HANDLE = /^[A-Za-z0-9_-]{22}$/
const NOT_FOUND = 'no live session for that token or handle'

/**
 * The store key of the live session `arg` names: a token's (or a raw store key's) when one is
 * there, else, for a string shaped as a handle, the key whose handle it is. That search reads
 * every key (O(sessions)): fine for an operator, never on an app's path.
 */
async function sessionKey(
  backend: Backend,
  arg: string,
  values: Values,
): Promise<string | undefined> {
  const key = keyOf(arg, values)
  if ((await backend.get(key)) !== undefined) return key
  if (!HANDLE.test(arg)) return undefined
  for await (const candidate of backend.keys()) {
    if (handleOf(candidate) === arg) return candidate
  }
  return undefined
}

function decoded(session: StoredSession): {
  codec: string
  deadline?: string
  values?: Record<string, unknown>
  error?: string
} {
  const codec = codecOf(session.data)
  try {
    const record = decode(session.data)
    return {
      codec,
      deadline: record.deadline.toISOString(),
      values: Object.fromEntries([...record.values].map(([k, v]) => [k, plain(v)])),
    }
  } catch (err) {
    return { codec, error: err instanceof Error ? err.message : String(err) }
  }
}

const COMMAND_RUNNERS: Record<Command, (context: Context) => Promise<number>> = {
  async stats({ backend, io, values }) {
    const s = await backend.stats()
    if (values.json === true) {
      io.out(JSON.stringify(s))
      return 0
    }
    const lines: [string, string][] = [
      ['store', s.store],
      [
        'rows',
        `${formatCount(s.rows)} (${formatCount(s.live)} live, ${formatCount(s.expired)} expired)`,
      ],
      ['data', formatBytes(s.dataBytes)],
      [
        'expiry',
        s.oldestExpiry === undefined
          ? '—'
          : `oldest ${s.oldestExpiry.toISOString()}, newest ${s.newestExpiry?.toISOString()}`,
      ],
      [
        'codecs',
        Object.entries(s.codecs)
          .map(([codec, n]) => `${codec} ${formatCount(n)}`)
          .join(', ') || '—',
      ],
      [
        'owners',
        s.owners === undefined
          ? 'no owner index'
          : `${formatCount(s.owners.owners)} owners, ${formatCount(s.owners.sessions)} sessions filed`,
      ],
    ]
    if (s.file !== undefined) {
      lines.push([
        'file',
        `${formatBytes(s.file.bytes)}, WAL ${formatBytes(s.file.walBytes)}, journal_mode ${s.file.journalMode}`,
      ])
    }
    for (const [name, value] of lines) io.out(`${label(io, name.padEnd(8))}${value}`)
    return 0
  },

  async list({ backend, io, values }) {
    const limit = positiveInt(values.limit, 'limit', 50)
    const show = values['show-tokens'] === true
    const rows: StoredSession[] = []
    for await (const s of backend.list({
      limit,
      ...(values.owner === undefined ? {} : { owner: values.owner }),
    })) {
      if (values.json !== true) {
        rows.push(s)
        continue
      }
      io.out(
        JSON.stringify({
          handle: handleOf(s.key),
          ...(show ? { key: s.key } : {}),
          expiresAt: s.expiresAt.toISOString(),
          bytes: s.data.length,
          codec: codecOf(s.data),
          owner: s.owner ?? null,
        }),
      )
      if (io.closed) break
    }
    if (values.json === true) return 0
    if (rows.length === 0) {
      io.out(dim(io, 'no live sessions'))
      return 0
    }
    const header = ['HANDLE', ...(show ? ['KEY'] : []), 'EXPIRES', 'SIZE', 'CODEC', 'OWNER']
    io.out(
      table(
        io,
        header,
        rows.map((s) => [
          handleOf(s.key),
          ...(show ? [s.key] : []),
          s.expiresAt.toISOString(),
          formatBytes(s.data.length),
          codecOf(s.data),
          s.owner ?? '',
        ]),
      ),
    )
    if (rows.length === limit) io.out(dim(io, `first ${limit}; --limit N for more`))
    return 0
  },

  async show({ backend, io, rest, values }) {
    const key = await sessionKey(backend, rest[0] as string, values)
    const session = key === undefined ? undefined : await backend.get(key)
    if (session === undefined) {
      io.err(`sessionkit show: ${NOT_FOUND}`)
      return 1
    }
    const view = {
      handle: handleOf(session.key),
      expiresAt: session.expiresAt.toISOString(),
      bytes: session.data.length,
      owner: session.owner ?? null,
      ...decoded(session),
    }
    if (values.json === true) io.out(JSON.stringify(view))
    else {
      for (const [k, v] of Object.entries(view)) {
        if (k === 'values') continue
        io.out(`${label(io, k.padEnd(10))}${String(v)}`)
      }
      io.out(label(io, 'values'))
      io.out(JSON.stringify(view.values ?? null, null, 2))
    }
    return view.error === undefined ? 0 : 1
  },

  async prune({ backend, io, values }) {
    const batch = positiveInt(values.batch, 'batch', 500)
    const total = await backend.countExpired()
    const started = performance.now()
    let deleted = 0
    const bar =
      io.tty && values.json !== true
        ? new cliProgress.SingleBar(
            {
              format: 'pruning {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}',
              hideCursor: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined
    bar?.start(total, 0, { rate: 0 })
    let lastLine = started
    for (;;) {
      const n = await backend.pruneBatch(batch)
      deleted += n
      const seconds = (performance.now() - started) / 1000
      const rate = Math.round(deleted / Math.max(seconds, 0.001))
      // Rows that expire while it runs are deleted too: the total grows to what was done.
      if (bar !== undefined) {
        if (deleted > total) bar.setTotal(deleted)
        bar.update(deleted, { rate: formatCount(rate) })
      } else if (values.json !== true && performance.now() - lastLine >= 1000) {
        lastLine = performance.now()
        io.out(
          `pruned ${formatCount(deleted)}/${formatCount(Math.max(total, deleted))} (${formatCount(rate)}/s)`,
        )
      }
      if (n < batch) break
      // A pause between batches, so the apps' own writes get the write lock in between.
      await sleep(1)
    }
    bar?.stop()
    const seconds = (performance.now() - started) / 1000
    if (values.json === true) io.out(JSON.stringify({ deleted, seconds }))
    else io.out(`deleted ${formatCount(deleted)} expired sessions in ${seconds.toFixed(1)} s`)
    return 0
  },

  async revoke({ backend, io, rest, values }) {
    let revoked = 0
    if (values.owner === undefined) {
      if (values.except !== undefined) throw new UsageError('--except needs --owner')
      const key = await sessionKey(backend, rest[0] as string, values)
      if (key !== undefined && (await backend.revoke(key))) revoked = 1
      else io.err(`sessionkit revoke: ${NOT_FOUND}`)
    } else {
      const { except } = values
      // The one to keep, by its token or by its handle: the owner's keys are at hand.
      const kept = (key: string): boolean =>
        except !== undefined && (key === keyOf(except, values) || handleOf(key) === except)
      for (const key of await backend.ownedKeys(values.owner)) {
        if (!kept(key) && (await backend.revoke(key))) revoked++
      }
    }
    if (values.json === true) io.out(JSON.stringify({ revoked }))
    else io.out(`revoked ${formatCount(revoked)} session${revoked === 1 ? '' : 's'}`)
    return values.owner === undefined && revoked === 0 ? 1 : 0
  },

  async export({ backend, io }) {
    for await (const s of backend.list({ anyOrder: true })) {
      io.out(
        JSON.stringify({
          key: s.key,
          expiresAt: s.expiresAt.toISOString(),
          data: Buffer.from(s.data).toString('base64'),
          ...(s.owner === undefined ? {} : { owner: s.owner }),
          ...decoded(s),
        }),
      )
      if (io.closed) break
    }
    return 0
  },

  import({ backend, io, values }) {
    return importSessions(backend, io, values.replace === true, values.json === true)
  },
}
