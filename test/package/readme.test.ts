import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { typecheckFolder } from '../helpers/typecheck.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string)

describe('README code blocks', () => {
  it('are complete programs that type-check against the package, each on its own', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(9)
    // Inside the repository, so `sessionkit` resolves to the package itself (its exports, dist/),
    // as it would from an app's node_modules; each block is its own module, pasted as it is.
    const dir = join(root, 'test-results', 'readme')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    for (const [i, code] of blocks.entries()) writeFileSync(join(dir, `block-${i + 1}.ts`), code)
    const output = typecheckFolder(root, dir, ['ES2023', 'DOM'])
    expect(output).toBe('')
  }, 60_000)
})
