import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/http.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const frameworks = ['node', 'express', 'fastify', 'koa', 'fetch', 'hono'] as const

function spawnExample(framework: string, port: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', `examples/${framework}/server.ts`], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

// Resolves once the example prints its URL, the sign that it is listening.
function ready(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes(`http://127.0.0.1:${port}`)) resolve()
    })
    child.once('exit', (code) => reject(new Error(`example exited with ${code}: ${stderr}`)))
  })
}

describe('examples/<framework>/server.ts', () => {
  let child: ChildProcess | undefined

  afterEach(() => {
    child?.kill('SIGTERM')
    child = undefined
  })

  for (const framework of frameworks) {
    it(`${framework}: starts on PORT and serves the seed's /put then /get`, async () => {
      const port = await freePort()
      child = spawnExample(framework, port)
      await ready(child, port)
      const put = await fetch(`http://127.0.0.1:${port}/put`)
      expect(put.status).toBe(200)
      const [cookie] = put.headers.getSetCookie()
      expect(cookie).toMatch(/^session=[\w-]{43}; Path=\/; Expires=/)
      const get = await fetch(`http://127.0.0.1:${port}/get`, {
        headers: { Cookie: cookie?.split(';')[0] ?? '' },
      })
      expect(await get.text()).toBe('Hello from a session!')
      expect(get.headers.getSetCookie()).toEqual([])
      expect(get.headers.get('vary')).toBe('Cookie')
    })
  }
})
