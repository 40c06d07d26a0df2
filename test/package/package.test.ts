import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>
  peerDependencies: Record<string, string>
  peerDependenciesMeta: Record<string, { optional?: boolean }>
  type: string
  engines: { node: string }
}
const subpaths = Object.entries(pkg.exports).filter(
  (entry): entry is [string, { types: string; default: string }] => typeof entry[1] !== 'string',
)
const root = new URL('../../', import.meta.url)

describe('package shape', () => {
  it('is ESM only, for the Node lines CI tests (20.19+, 22.13+, 24, 26), with every peer optional', () => {
    expect(pkg.type).toBe('module')
    expect(pkg.engines.node).toBe('^20.19.0 || ^22.13.0 || ^24.0.0 || ^26.0.0')
    for (const peer of Object.keys(pkg.peerDependencies)) {
      expect(pkg.peerDependenciesMeta[peer]?.optional, peer).toBe(true)
    }
  })

  it('has a source file for every export and an export for every entry file', () => {
    for (const [, target] of subpaths) {
      const src = target.default.replace('./dist/', 'src/').replace(/\.js$/, '.ts')
      expect(existsSync(new URL(src, root)), src).toBe(true)
    }
  })

  it('builds with tsc and every subpath loads from the built package by its name', async () => {
    // The build into a folder of its own: dist/ (made by `npm install`'s prepare) stays as it
    // is while other tests, the examples among them, load the package from it.
    const out = mkdtempSync(join(tmpdir(), 'sessionkit-build-'))
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', out], {
        cwd: root,
        stdio: 'pipe',
      })
      for (const [, target] of subpaths) {
        expect(existsSync(join(out, target.types.replace('./dist/', ''))), target.types).toBe(true)
      }
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
    for (const [name, target] of subpaths) {
      expect(existsSync(new URL(target.types, root)), target.types).toBe(true)
      const mod = (await import(`sessionkit${name.slice(1)}`)) as Record<string, unknown>
      // A .ts specifier in a published .d.ts breaks every consumer without allowImportingTsExtensions.
      expect(readFileSync(new URL(target.types, root), 'utf8')).not.toMatch(/from '\.[^']*\.ts'/)
      if (name === '.') expect(typeof mod.SessionManager).toBe('function')
      else if (name === './express-session')
        expect(typeof mod.expressSessionBridge).toBe('function')
      else if (name.startsWith('./') && /node|express|fastify|koa|fetch|hono/.test(name)) {
        expect(typeof mod.loadAndSave, name).toBe('function')
      } else expect(Object.keys(mod).length, name).toBeGreaterThan(0)
    }
  }, 120_000)

  it('loads every subpath from CommonJS with require(), as Node >= 20.19 allows for ESM without top-level await', () => {
    const names = subpaths.map(([name]) => `sessionkit${name.slice(1)}`)
    const script = `for (const n of ${JSON.stringify(names)}) { const m = require(n); if (Object.keys(m).length === 0) throw new Error(n + ' is empty') } console.log('ok')`
    const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', script], {
      cwd: fileURLToPath(root),
      encoding: 'utf8',
    })
    expect(out.trim()).toBe('ok')
  })

  it('ships the sources its source maps point at, and a LICENSE', () => {
    const files = (pkg as unknown as { files: string[] }).files
    expect(files).toEqual(expect.arrayContaining(['dist', 'src', 'LICENSE']))
    expect(existsSync(new URL('LICENSE', root))).toBe(true)
    const map = JSON.parse(readFileSync(new URL('dist/index.js.map', root), 'utf8')) as {
      sources: string[]
    }
    for (const source of map.sources) {
      expect(existsSync(new URL(source, new URL('dist/', root))), source).toBe(true)
    }
  })

  it('names every subpath in the README or docs/', () => {
    const docs = [
      readFileSync(new URL('README.md', root), 'utf8'),
      ...readdirSync(new URL('docs/', root))
        .filter((f) => f.endsWith('.md'))
        .map((f) => readFileSync(new URL(`docs/${f}`, root), 'utf8')),
    ].join('\n')
    for (const [name] of subpaths) {
      if (name !== '.') expect(docs, name).toContain(`sessionkit${name.slice(1)}`)
    }
  })

  it('keeps sessionkit/testing free of test frameworks: node: modules and its own sources, fast-check only when installed', () => {
    const dir = new URL('src/testing/', root)
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(new URL(file, dir), 'utf8')
      const values = [...text.matchAll(/^import (?!type)[^\n]* from '([^']+)'/gm)].map((m) => m[1])
      for (const spec of values) expect(spec, file).toMatch(/^(\.|node:)/)
      const dynamic = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1])
      for (const spec of dynamic) expect(spec, file).toBe('fast-check')
    }
    expect(pkg.peerDependenciesMeta['fast-check']?.optional).toBe(true)
  })

  it('keeps the core free of value imports from any peer package', () => {
    const core = readdirSync(new URL('src/', root)).filter((f) => f.endsWith('.ts'))
    for (const file of core) {
      const text = readFileSync(new URL(`src/${file}`, root), 'utf8')
      const imports = [...text.matchAll(/^import (?!type)[^\n]* from '([^']+)'/gm)].map((m) => m[1])
      for (const spec of imports) expect(spec, file).toMatch(/^(\.|node:|cookie$)/)
    }
  })
})
