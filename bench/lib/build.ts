import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const REPO = join(import.meta.dirname, '..', '..')

/**
 * Compiles the server files (and the src/ they import) with plain tsc, as the package is built,
 * into `dir`, and returns the directory holding the compiled `bench/servers/*.js`. Type errors
 * elsewhere in the tree do not stop it (`--noCheck`); `npm run typecheck` is the place for them.
 */
export function buildServers(dir: string): string {
  const servers = join(REPO, 'bench', 'servers')
  const roots = readdirSync(servers)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(servers, f))
  // Loaded at run time, so tsc would not follow it from the imports.
  const sqlite = join(REPO, 'src', 'stores', 'sqlite', 'index.ts')
  if (existsSync(sqlite)) roots.push(sqlite)
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')
  // biome-ignore format: one flag per line reads better
  const flags = [
    '--outDir', dir,
    '--rootDir', REPO,
    '--target', 'ES2023',
    '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext',
    '--allowImportingTsExtensions',
    '--rewriteRelativeImportExtensions',
    '--verbatimModuleSyntax',
    '--skipLibCheck',
    '--noCheck',
    '--sourceMap',
  ]
  try {
    execFileSync(process.execPath, [tsc, ...flags, ...roots], { cwd: REPO, encoding: 'utf8' })
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? ''
    throw new Error(`tsc could not compile the servers: ${out.slice(0, 500)}`)
  }
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
  const modules = join(dir, 'node_modules')
  if (!existsSync(modules)) symlinkSync(join(REPO, 'node_modules'), modules, 'dir')
  mkdirSync(join(dir, 'bench', 'servers'), { recursive: true })
  return join(dir, 'bench', 'servers')
}
