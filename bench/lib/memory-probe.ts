// Run with --expose-gc: the heap one MemoryStore holds per 100k sessions, for sessionkit and for
// express-session, each created through the library's own save path. Prints one JSON line.
import { createRequire } from 'node:module'
import { MemoryStore } from '../../src/index.ts'
import { benchManager } from './sessionkit-app.ts'
import { EXPRESS_SESSION_COOKIE, MESSAGE } from './settings.ts'

const COUNT = Number(process.env.BENCH_SESSIONS ?? 100_000)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('memory-probe needs node --expose-gc')

function heap(): number {
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

async function sessionkit(): Promise<number> {
  const store = new MemoryStore({ cleanupInterval: 0 })
  const sessions = benchManager(store)
  const before = heap()
  for (let i = 0; i < COUNT; i++) {
    const session = sessions.loadCookieHeader(undefined)
    if (session instanceof Promise)
      throw new Error('a request without a cookie loaded from the store')
    session.put('message', MESSAGE)
    await sessions.commit(session)
  }
  const after = heap()
  if (store.size !== COUNT) throw new Error(`MemoryStore holds ${store.size}, not ${COUNT}`)
  return after - before
}

type ExpressMemoryStore = {
  set: (sid: string, sess: object, cb: (err?: unknown) => void) => void
  length: (cb: (err: unknown, n: number) => void) => void
}

async function expressSession(): Promise<number> {
  const session = createRequire(import.meta.url)('express-session') as {
    MemoryStore: new () => ExpressMemoryStore
    Cookie: new (options: object) => object
  }
  const store = new session.MemoryStore()
  const before = heap()
  for (let i = 0; i < COUNT; i++) {
    // The shape express-session saves: its Cookie object plus the data, under a 32-char id.
    const sess = { cookie: new session.Cookie(EXPRESS_SESSION_COOKIE), message: MESSAGE }
    await new Promise<void>((resolve) => store.set(`${i}`.padStart(32, 'x'), sess, () => resolve()))
  }
  const after = heap()
  return after - before
}

const sk = await sessionkit()
const es = await expressSession()
console.log(JSON.stringify({ count: COUNT, sessionkit: sk, expressSession: es }))
