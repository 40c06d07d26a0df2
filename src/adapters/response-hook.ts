import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HeaderNames, HeaderSink } from '../response-headers.js'
import { writeSessionHeaders } from '../response-headers.js'
import type { Session } from '../session.js'
import type { SessionManager } from '../session-manager.js'

/** Called when the commit step fails; it must end the response. */
export type CommitFailure = (err: Error, req: IncomingMessage, res: ServerResponse) => void

type Method = 'writeHead' | 'write' | 'end' | 'flushHeaders'
type AnyFn = (...args: unknown[]) => unknown

const IDLE = 0
const COMMITTING = 1
const PASSTHROUGH = 2

/** One manager's session on a response; nested loadAndSave calls add one each. */
interface HookEntry {
  manager: SessionManager<object>
  session: Session<object>
  req: IncomingMessage
  onFailure: CommitFailure
}

interface HookState {
  phase: 0 | 1 | 2
  entries: HookEntry[]
  original: Record<Method, AnyFn>
  queue: Array<[Method, unknown[]]>
}

// A symbol property, not a WeakMap: short-lived WeakMap keys cost the garbage collector more per
// request (measured: about a fifth of node:http throughput) than a property store costs.
const kHook = Symbol('sessionkit.hook')
type Hooked = ServerResponse & { [kHook]?: HookState }

const stateOf = (res: ServerResponse): HookState | undefined => (res as Hooked)[kHook]

/** A node:http response's headers for the header step; multi-line values are read joined. */
export const nodeHeaders: HeaderSink<ServerResponse> = {
  get(res, name) {
    const value = res.getHeader(name)
    if (value === undefined) return undefined
    return Array.isArray(value) ? value.join(', ') : String(value)
  },
  set(res, name, value) {
    res.setHeader(name, value)
  },
  append(res, name, value) {
    res.appendHeader(name, value)
  },
}

/** Adds the manager's Vary to `res` before anything else, so an error response keeps it too. */
export function addVary(res: ServerResponse, manager: HeaderNames): void {
  writeSessionHeaders(nodeHeaders, res, manager, undefined)
}

function pass(res: ServerResponse, method: Method, args: unknown[]): unknown {
  return (stateOf(res) as HookState).original[method].apply(res, args)
}

type Outcome = string | undefined | Promise<string | undefined>

// The first write of any kind runs the commit step of every session on the response; while a
// store write is pending, the calls queue in order and replay afterwards, so no byte leaves
// before the sessions are saved.
function intercept(res: ServerResponse, method: Method, args: unknown[]): unknown {
  const state = stateOf(res) as HookState
  if (state.phase === PASSTHROUGH) return pass(res, method, args)
  if (state.phase === COMMITTING) {
    state.queue.push([method, args])
    return method === 'write' ? true : res
  }
  for (const entry of state.entries) addVary(res, entry.manager)
  const outcomes: Outcome[] = []
  let pending = false
  for (const entry of state.entries) {
    let outcome: Outcome
    try {
      outcome = entry.manager.commitResponse(entry.session)
    } catch (err) {
      state.phase = PASSTHROUGH
      entry.onFailure(err as Error, entry.req, res)
      return method === 'write' ? false : res
    }
    if (outcome instanceof Promise) {
      pending = true
      // The failure is handled below, after every outcome is known.
      outcome.catch(() => {})
    }
    outcomes.push(outcome)
  }
  if (!pending) {
    state.phase = PASSTHROUGH
    outcomes.forEach((cookie, i) => {
      const entry = state.entries[i]
      if (cookie !== undefined && entry) {
        entry.manager.writeHeaders(nodeHeaders, res, entry.session, cookie as string)
      }
    })
    return pass(res, method, args)
  }
  state.phase = COMMITTING
  state.queue.push([method, args])
  settle(res, state, outcomes)
  return method === 'write' ? true : res
}

async function settle(res: ServerResponse, state: HookState, outcomes: Outcome[]): Promise<void> {
  const cookies: Array<string | undefined> = []
  for (const [i, outcome] of outcomes.entries()) {
    const entry = state.entries[i] as HookEntry
    try {
      cookies.push(await outcome)
    } catch (err) {
      state.phase = PASSTHROUGH
      state.queue = []
      entry.onFailure(err as Error, entry.req, res)
      return
    }
  }
  state.phase = PASSTHROUGH
  if (!res.headersSent) {
    cookies.forEach((cookie, i) => {
      const entry = state.entries[i]
      if (cookie !== undefined && entry) {
        entry.manager.writeHeaders(nodeHeaders, res, entry.session, cookie)
      }
    })
  }
  const queue = state.queue
  state.queue = []
  for (const [m, a] of queue) pass(res, m, a)
}

function writeHead(this: ServerResponse, ...args: unknown[]): unknown {
  return intercept(this, 'writeHead', args)
}
function write(this: ServerResponse, ...args: unknown[]): unknown {
  return intercept(this, 'write', args)
}
function end(this: ServerResponse, ...args: unknown[]): unknown {
  return intercept(this, 'end', args)
}
function flushHeaders(this: ServerResponse, ...args: unknown[]): unknown {
  return intercept(this, 'flushHeaders', args)
}

/**
 * Makes `res` run the session's commit step before its first byte (a second manager on the same
 * response joins the first one's hook): on the first writeHead,
 * write, end or flushHeaders it adds Vary, commits, adds Set-Cookie and Cache-Control, then lets
 * the response through. A commit failure calls `onFailure` instead and drops what the handler
 * wrote, so a failed save never reaches the client as a success.
 */
export function hookResponse<Data extends object>(
  res: ServerResponse,
  manager: SessionManager<Data>,
  session: Session<Data>,
  req: IncomingMessage,
  onFailure: CommitFailure,
): void {
  const entry: HookEntry = { manager, session, req, onFailure }
  const existing = stateOf(res)
  if (existing !== undefined) {
    existing.entries.push(entry)
    return
  }
  ;(res as Hooked)[kHook] = {
    phase: IDLE,
    entries: [entry],
    original: {
      writeHead: res.writeHead as AnyFn,
      write: res.write as AnyFn,
      end: res.end as AnyFn,
      flushHeaders: res.flushHeaders as AnyFn,
    },
    queue: [],
  }
  res.writeHead = writeHead as ServerResponse['writeHead']
  res.write = write as ServerResponse['write']
  res.end = end as ServerResponse['end']
  res.flushHeaders = flushHeaders
}

/** True once the commit step has started or finished on `res`. */
export function commitStarted(res: ServerResponse): boolean {
  const state = stateOf(res)
  return state !== undefined && state.phase !== IDLE
}
