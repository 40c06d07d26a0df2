import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/http.ts'

// A new app on Node 26 that installs the packed sessionkit from its tarball, as a user's app
// installs it from the registry, and serves the seed example on the runtime's own SQLite.
const node26 = process.env.SESSIONKIT_NODE26
const root = fileURLToPath(new URL('../..', import.meta.url))
const missing =
  'SESSIONKIT_NODE26 is not set: run `eval "$(bash scripts/runtimes.sh)"` (it fetches Node 26 from the npm registry into a cache folder)'
if (node26 === undefined && process.env.CI === 'true') {
  it('has Node 26 for the packed-app test', () => {
    throw new Error(missing)
  })
}

const SERVER = `import http from 'node:http'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/node'
import { defaultSQLiteDriver, openSQLiteStore } from 'sessionkit/sqlite'

const sessions = new SessionManager({ store: openSQLiteStore('sessions.db') })
const server = http.createServer(
  loadAndSave(sessions, (req, res) => {
    const session = sessions.from(req)
    if (req.url === '/put') {
      session.put('message', 'Hello from a session!')
      res.end()
    } else if (req.url === '/get') {
      res.end(session.getString('message'))
    } else {
      res.statusCode = 404
      res.end('Not Found\\n')
    }
  }),
)
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('listening with ' + defaultSQLiteDriver())
})
`

/** Every file under `dir` whose name ends in `.node`: a compiled addon. */
function addons(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.node'))
      found.push(join(entry.parentPath, entry.name))
  }
  return found
}

describe.skipIf(node26 === undefined)(
  node26 === undefined
    ? `a packed sessionkit on Node 26 (skipped: ${missing})`
    : 'a packed sessionkit on Node 26',
  () => {
    let work: string
    let tarball: string
    const children: ChildProcess[] = []
    const env = { ...process.env, PATH: `${dirname(node26 ?? '')}:${process.env.PATH ?? ''}` }

    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'sessionkit-packed-'))
      const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
        cwd: root,
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .pop() as string
      tarball = join(work, name)
    }, 120_000)
    afterAll(() => {
      for (const child of children) child.kill('SIGTERM')
      rmSync(work, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 })
    })

    // Installs the app with Node 26's own npm run (npm on PATH runs on the first `node`).
    function install(app: string, extra: string[]): number {
      mkdirSync(app)
      writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module' }))
      writeFileSync(join(app, 'server.js'), SERVER)
      const started = performance.now()
      const log = execFileSync(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          '--foreground-scripts',
          tarball,
          ...extra,
        ],
        { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      )
      const took = performance.now() - started
      // A compile would show node-gyp's output (foreground scripts print it here).
      expect(log).not.toMatch(/gyp|prebuild-install|make: /)
      return took
    }

    async function serve(
      app: string,
    ): Promise<{ driver: string; put: Response; get: Response; stderr: string }> {
      const port = await freePort()
      const child = spawn(node26 as string, ['server.js'], {
        cwd: app,
        env: { ...env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      children.push(child)
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      const driver = await new Promise<string>((resolve, reject) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          const match = /listening with (\S+)/.exec(chunk.toString())
          if (match?.[1] !== undefined) resolve(match[1])
        })
        child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)))
      })
      const put = await fetch(`http://127.0.0.1:${port}/put`)
      const cookie = put.headers.getSetCookie()[0]?.split(';')[0] ?? ''
      const get = await fetch(`http://127.0.0.1:${port}/get`, { headers: { Cookie: cookie } })
      child.kill('SIGTERM')
      return { driver, put, get, stderr }
    }

    it('installs without better-sqlite3, compiling nothing, and serves the seed on node:sqlite', async () => {
      const app = join(work, 'builtin')
      const took = install(app, [])
      expect(existsSync(join(app, 'node_modules/sessionkit/dist/index.js'))).toBe(true)
      expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(false)
      expect(addons(join(app, 'node_modules'))).toEqual([])
      const { driver, put, get, stderr } = await serve(app)
      expect(driver).toBe('node:sqlite')
      expect(put.headers.getSetCookie()[0]).toMatch(/^session=[\w-]{43}; Path=\/; Expires=/)
      expect(await get.text()).toBe('Hello from a session!')
      // No warning on Node 26: node:sqlite is stable there, and nothing fell back.
      expect(stderr).toBe('')
      expect(existsSync(join(app, 'sessions.db'))).toBe(true)
      console.info(
        `packed app on Node 26 without better-sqlite3: npm install ${Math.round(took)} ms`,
      )
    }, 120_000)

    it('installs with better-sqlite3 13 (prebuilt Node-API binaries, nothing compiled) and uses it', async () => {
      const app = join(work, 'better-sqlite3')
      const took = install(app, ['better-sqlite3@13'])
      // Its only addons are the ones shipped in the package: no build/ folder, nothing compiled.
      expect(existsSync(join(app, 'node_modules/better-sqlite3/build'))).toBe(false)
      const found = addons(join(app, 'node_modules'))
      expect(found.some((f) => f.endsWith('/better-sqlite3/prebuilds/linux-x64.node'))).toBe(true)
      expect(found.filter((f) => !f.includes('/better-sqlite3/prebuilds/'))).toEqual([])
      const { driver, get, stderr } = await serve(app)
      expect(driver).toBe('better-sqlite3')
      expect(await get.text()).toBe('Hello from a session!')
      expect(stderr).toBe('')
      console.info(
        `packed app on Node 26 with better-sqlite3 13: npm install ${Math.round(took)} ms`,
      )
    }, 180_000)
  },
)
