import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Type-checks every `.ts` file in `dir` as an app would, strict with `noUncheckedIndexedAccess`,
 * with the repository's own tsc (`root`); resolves tsc's output, '' when the files check.
 * `dir` lies inside the repository, so `sessionkit` resolves to the package itself (its exports,
 * dist/), as it would from an app's node_modules.
 */
export function typecheckFolder(root: string, dir: string, lib: string[] = ['ES2023']): string {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      include: ['*.ts'],
    }),
  )
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      cwd: root,
      encoding: 'utf8',
      stdio: 'pipe',
    })
    return ''
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err)
  }
}
