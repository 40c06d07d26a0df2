import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { typecheckFolder } from '../../helpers/typecheck.ts'
import { runNodeTest } from './node-test.ts'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const doc = readFileSync(join(root, 'docs/stores.md'), 'utf8')
const section = doc
  .slice(doc.indexOf('\n## Writing a store\n'))
  .split(/\n## (?!Writing a store)/)[0]
// Each block starts with a comment naming its file, as printed.
const files = [...(section ?? '').matchAll(/```ts\n\/\/ (\S+\.ts)\n([\s\S]*?)```/g)].map((m) => ({
  name: m[1] as string,
  code: `// ${m[1]}\n${m[2]}`,
}))
// Inside the repository, so `sessionkit` resolves to the package itself (its exports, dist/), as it
// would from an app's node_modules.
const dir = join(root, 'test-results', 'stores-doc')

describe('docs/stores.md, Writing a store', () => {
  it('prints a store and its test file', () => {
    expect(files.map((f) => f.name)).toEqual(['map-store.ts', 'map-store.test.ts'])
  })

  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    for (const { name, code } of files) writeFileSync(join(dir, name), code)
  })

  it('type-checks as printed, strict, against the package', () => {
    const output = typecheckFolder(root, dir, ['ES2023'])
    expect(output).toBe('')
  }, 60_000)

  it('passes the conformance suite under node:test, with only the owner index, which it lacks, skipped', async () => {
    const results = (await runNodeTest('map-store.test.ts', dir)).filter((r) => r.path.length === 2)
    const of = (status: string) => results.filter((r) => r.status === status).map((r) => r.path[1])
    expect(of('failed')).toEqual([])
    expect(of('passed').length).toBeGreaterThanOrEqual(30)
    expect(of('passed')).toContain(
      'expiryEvents: a sweep removes expired sessions and tells onExpired listeners how many',
    )
    const skipped = of('skipped')
    expect(skipped.length).toBeGreaterThan(0)
    for (const title of skipped) {
      expect(title).toMatch(
        /^ownerIndex: .* \(skipped: MapStore has no setOwner\(\), listOwned\(\), touchOwned\(\)\)$/,
      )
    }
  }, 120_000)
})
