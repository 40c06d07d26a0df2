import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TSX = join(ROOT, 'node_modules/.bin/tsx')

/** Starts `demo/server.ts` as `npm start` does, on a random port and a temp SQLite file. */
function startServer(dbPath: string) {
  const child = spawn(TSX, ['demo/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', SESSIONS_DB: dbPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const base = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
      const match = /http:\/\/127\.0\.0\.1:\d+/.exec(output)
      if (match) resolve(match[0])
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk
    })
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${output}`)))
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { child, base, exited, output: () => output }
}

describe('demo/server.ts (npm start)', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves the seed's /put and /get on SESSIONS_DB, then exits 0 on ${signal} and closes the file`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sessionkit-demo-'))
      dirs.push(dir)
      const dbPath = join(dir, 'sessions.db')
      const server = startServer(dbPath)
      try {
        const base = await server.base
        const put = await fetch(`${base}/put`)
        expect(put.status).toBe(200)
        expect(await put.text()).toBe('')
        const cookie = put.headers.get('set-cookie') ?? ''
        // The demo's one manager gives every route a browser-session cookie (remember me aside).
        expect(cookie).toMatch(/^session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)
        const get = await fetch(`${base}/get`, { headers: { cookie: cookie.split(';')[0] ?? '' } })
        expect(await get.text()).toBe('Hello from a session!')
        expect(existsSync(dbPath)).toBe(true)
      } finally {
        server.child.kill(signal)
      }
      expect(await server.exited).toBe(0)
      expect(server.output()).toContain(`${signal}: shutting down`)
      // The last connection to a WAL database checkpoints and removes the -wal file on close.
      expect(existsSync(`${dbPath}-wal`)).toBe(false)
    })
  }
})
