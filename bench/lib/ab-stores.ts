import { join } from 'node:path'
import type { Build } from './ab-builds.ts'
import type { AbManager, AbSession, AbStore } from './ab-package.ts'
import { abManager, importBuild } from './ab-package.ts'
import type { AbSamples } from './ab-report.ts'
import { MESSAGE } from './settings.ts'
import { opsPerSecond } from './store-runner.ts'

/** How many operations each timed run makes, and how many rounds to make. */
export interface AbStorePlan {
  rounds: number
  ops: number
  /** An untimed round first, so both builds' code is optimised before it counts. */
  warmup: boolean
}

/** The three store paths issue 24 compares, each through the manager as a request takes it. */
export const AB_STORE_OPS = [
  { id: 'find', label: 'find (load with a valid token)' },
  { id: 'update', label: 'commit of a changed session (update)' },
  { id: 'insert', label: 'commit of a new session (insert)' },
] as const

type OpId = (typeof AB_STORE_OPS)[number]['id']

interface Side {
  build: Build
  store: AbStore
  sessions: AbManager
  tokens: string[]
}

let edits = 0

// A value of constant length that differs from every earlier one, so each commit has a change to
// write (a session whose bytes are unchanged is not rewritten).
function nextMessage(): string {
  return `${MESSAGE} ${String(edits++).padStart(9, '0')}`
}

async function commitAll(sessions: AbManager, list: AbSession[]): Promise<string[]> {
  const tokens: string[] = []
  for (const s of list) {
    const result = await sessions.commit(s)
    if (!result.committed) throw new Error('a commit was refused')
    tokens.push(result.token)
  }
  return tokens
}

async function fresh(sessions: AbManager, count: number): Promise<AbSession[]> {
  const list: AbSession[] = []
  for (let i = 0; i < count; i++) {
    const s = await sessions.load(undefined)
    s.put('message', nextMessage())
    list.push(s)
  }
  return list
}

async function open(build: Build, file: string, ops: number): Promise<Side> {
  const api = await importBuild(build.root)
  const store = api.openSQLiteStore(file)
  const sessions = abManager(api, store)
  const tokens = await commitAll(sessions, await fresh(sessions, ops))
  const back = await sessions.load(tokens[0])
  if (!back.getString('message').startsWith(MESSAGE)) {
    throw new Error(`the ${build.id} build did not load back the session it committed`)
  }
  return { build, store, sessions, tokens }
}

// Only the store path itself is timed: loading the sessions to change, or making new ones (no
// store call), happens before the clock starts.
async function measure(side: Side, op: OpId, ops: number): Promise<number> {
  const { sessions, tokens } = side
  if (op === 'find') {
    return opsPerSecond(async () => {
      for (let i = 0; i < ops; i++) await sessions.load(tokens[i % tokens.length])
    }, ops)
  }
  let list: AbSession[]
  if (op === 'update') {
    list = []
    for (let i = 0; i < ops; i++) {
      const s = await sessions.load(tokens[i % tokens.length])
      s.put('message', nextMessage())
      list.push(s)
    }
  } else {
    list = await fresh(sessions, ops)
  }
  return opsPerSecond(() => commitAll(sessions, list).then(() => {}), ops)
}

/**
 * Opens each build's SQLiteStore (openSQLiteStore, on its own file in `dir`) and SessionManager in
 * this process, creates `plan.ops` sessions in each, then times each op in rounds, old then new in
 * even rounds and new then old in odd ones (ABBA); returns one row of ops/s per op.
 */
export async function runStoresAb(
  builds: { old: Build; new: Build },
  plan: AbStorePlan,
  dir: string,
  log: (line: string) => void,
): Promise<AbSamples[]> {
  const sides: Side[] = []
  try {
    for (const build of [builds.old, builds.new]) {
      sides.push(await open(build, join(dir, `${build.id}-stores.db`), plan.ops))
    }
    const [old, neu] = sides as [Side, Side]
    const rows = AB_STORE_OPS.map((op) => ({ op, samples: { label: op.label, old: [], new: [] } }))
    const first = plan.warmup ? -1 : 0
    for (let round = first; round < plan.rounds; round++) {
      const order = round % 2 === 0 ? [old, neu] : [neu, old]
      log(
        round < 0
          ? '  warm-up round'
          : `  round ${round + 1}/${plan.rounds} (${round % 2 === 0 ? 'old, new' : 'new, old'})`,
      )
      for (const { op, samples } of rows) {
        for (const side of order) {
          const rate = await measure(side, op.id, plan.ops)
          if (round >= 0) (samples[side.build.id] as number[]).push(rate)
        }
      }
    }
    return rows.map(({ samples }) => samples)
  } finally {
    for (const side of sides) await side.store.close()
  }
}
