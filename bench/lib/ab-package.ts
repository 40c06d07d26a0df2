import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { COOKIE_NAME, LIFETIME_MS } from './settings.ts'

// The slice of sessionkit's API the A/B bench calls, typed structurally: the two builds are
// different files, and their full types may differ; these names are fixed by the design.

/** A session as the bench uses it: one string key. */
export interface AbSession {
  put(key: 'message', value: string): void
  getString(key: 'message'): string
}

/** A SessionManager as the bench uses it. */
export interface AbManager {
  load(token: string | undefined): Promise<AbSession>
  commit(session: AbSession): Promise<{ token: string; committed: boolean }>
  from(req: IncomingMessage): AbSession
}

/** A store the bench opens and closes; the manager is its only other user. */
export interface AbStore {
  close(): unknown
}

/** One build's sessionkit, sessionkit/node and sessionkit/sqlite, as the bench uses them. */
export interface AbApi {
  SessionManager: new (options: {
    store: AbStore
    lifetime: number
    cookie: { name: string; path: string; httpOnly: boolean; sameSite: 'lax'; secure: boolean }
  }) => AbManager
  loadAndSave(
    manager: AbManager,
    handler: (req: IncomingMessage, res: ServerResponse) => void,
  ): (req: IncomingMessage, res: ServerResponse) => unknown
  openSQLiteStore(path: string): AbStore
}

// Node's conditions for an ESM import, in the order the exports map lists them.
const CONDITIONS = new Set(['node', 'import', 'default'])

function target(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry
  if (Array.isArray(entry)) {
    for (const item of entry) {
      const found = target(item)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (typeof entry === 'object' && entry !== null) {
    for (const [condition, value] of Object.entries(entry)) {
      if (!CONDITIONS.has(condition)) continue
      const found = target(value)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/**
 * The file URL that `import 'sessionkit' + subpath.slice(1)` reaches in the package at `root`,
 * read from its package.json `exports` map (conditions node, import, default; no patterns), so
 * builds with different file layouts load alike; throws naming the subpath it cannot find.
 */
export function resolveExport(root: string, subpath: '.' | `./${string}`): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports?: unknown }
  const map = pkg.exports
  const sugar =
    typeof map === 'string' ||
    Array.isArray(map) ||
    (typeof map === 'object' && map !== null && !Object.keys(map).some((k) => k.startsWith('.')))
  const entry = sugar
    ? subpath === '.'
      ? map
      : undefined
    : (map as Record<string, unknown> | undefined)?.[subpath]
  const file = target(entry)
  if (file === undefined) throw new Error(`${root}/package.json exports no ${subpath}`)
  return pathToFileURL(join(root, file)).href
}

/** Imports sessionkit, sessionkit/node and sessionkit/sqlite from the built package at `root`. */
export async function importBuild(root: string): Promise<AbApi> {
  const [core, node, sqlite] = await Promise.all([
    import(resolveExport(root, '.')),
    import(resolveExport(root, './node')),
    import(resolveExport(root, './sqlite')),
  ])
  const api = {
    SessionManager: core.SessionManager,
    loadAndSave: node.loadAndSave,
    openSQLiteStore: sqlite.openSQLiteStore,
  }
  for (const [name, value] of Object.entries(api)) {
    if (typeof value !== 'function') throw new Error(`the build at ${root} exports no ${name}`)
  }
  return api as AbApi
}

/** A manager of build `api` over `store` with the settings every `npm run bench` contender shares. */
export function abManager(api: AbApi, store: AbStore): AbManager {
  return new api.SessionManager({
    store,
    lifetime: LIFETIME_MS,
    cookie: { name: COOKIE_NAME, path: '/', httpOnly: true, sameSite: 'lax', secure: false },
  })
}
