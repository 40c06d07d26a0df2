// `npm run bench:idle`: how many store writes a read-only request costs under an idle timeout of
// 20 minutes with idleRefresh at its default (goal: at most 1 in 100 under a steady load), with
// SCS's refresh-every-request (idleRefresh: 0) beside it. In process, on SQLiteStore, with a
// clock that advances as a steady load would; req/s against /get without an idle timeout comes
// from `npm run bench` (its sk-sqlite-node-idle contender). Not a CI test.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CompareAndSetStore,
  type EndingStore,
  SessionManager,
  type TouchStore,
} from '../src/index.ts'
import { openSQLiteStore } from '../src/stores/sqlite/index.ts'

// 15 requests per session per second, as the HTTP bench's /get gives each of its 1,000 sessions
// at 15k req/s; 100 sessions for 6 simulated minutes, long enough for several refresh windows.
const SESSIONS = 100
const RATE = SESSIONS * 15
const REQUESTS = RATE * 360
const STEP_MS = 1_000 / RATE

async function writesPerRequest(idleRefresh: number | undefined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-idle-bench-'))
  let now = Date.now()
  const store = openSQLiteStore(join(dir, 'sessions.db'), { cleanupInterval: 0 })
  let writes = 0
  const counted: TouchStore & CompareAndSetStore & EndingStore = {
    find: (k) => store.find(k),
    commit: (k, d, e, m) => {
      writes++
      return store.commit(k, d, e, m)
    },
    delete: (k) => store.delete(k),
    touch: (k, e) => {
      writes++
      return store.touch(k, e)
    },
    replace: (k, x, d, e) => {
      writes++
      return store.replace(k, x, d, e)
    },
    end: (k, r, u) => store.end(k, r, u),
    ended: (k) => store.ended(k),
  }
  const sessions = new SessionManager<{ message: string }>({
    store: counted,
    idleTimeout: 20 * 60_000,
    clock: () => now,
    ...(idleRefresh === undefined ? {} : { idleRefresh }),
  })
  const tokens: string[] = []
  for (let i = 0; i < SESSIONS; i++) {
    const s = await sessions.load('')
    s.put('message', 'Hello from a session!')
    await sessions.commitResponse(s)
    tokens.push(s.token)
  }
  writes = 0
  for (let i = 0; i < REQUESTS; i++) {
    now += STEP_MS
    const s = await sessions.load(tokens[i % SESSIONS] as string)
    await sessions.commitResponse(s)
  }
  store.close()
  rmSync(dir, { recursive: true, force: true })
  return writes / REQUESTS
}

const simulated = `${REQUESTS.toLocaleString()} read-only requests over ${SESSIONS.toLocaleString()} sessions (${((REQUESTS * STEP_MS) / 1000).toFixed(0)} s of simulated time, 15 requests per session per second)`
console.log(`${simulated}, idleTimeout 20 min:`)
console.log(
  `  idleRefresh default (60 s): ${(await writesPerRequest(undefined)).toFixed(4)} writes per request (goal ≤ 0.01)`,
)
console.log(
  `  idleRefresh 0 (SCS, every request): ${(await writesPerRequest(0)).toFixed(4)} writes per request`,
)
