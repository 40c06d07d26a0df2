import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { Cleanup } from './cleanup.ts'

const REPO = join(import.meta.dirname, '..', '..')

/** One built package of sessionkit: a folder holding its package.json, dist/ and node_modules. */
export interface Build {
  id: 'old' | 'new'
  /** What the tables call it: the base commit, or the working tree. */
  label: string
  root: string
}

function git(args: string[], cwd = REPO): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim()
}

function short(sha: string): string {
  return sha.slice(0, 7)
}

/**
 * The commit to compare against: `ref` when given, else the merge-base of HEAD and `main`; throws
 * with the git message when either cannot be resolved.
 */
export function resolveBase(ref: string | undefined): { sha: string; label: string } {
  try {
    if (ref !== undefined) {
      const sha = git(['rev-parse', '--verify', `${ref}^{commit}`])
      return { sha, label: ref.startsWith(short(sha)) ? short(sha) : `${short(sha)} (${ref})` }
    }
    const sha = git(['merge-base', 'HEAD', 'main'])
    return { sha, label: `${short(sha)} (main's merge-base)` }
  } catch (err) {
    const detail = (err as { stderr?: string }).stderr?.toString().trim() ?? (err as Error).message
    throw new Error(`cannot resolve the base ${ref ?? "(main's merge-base)"}: ${detail}`)
  }
}

// Both builds import their peers (better-sqlite3, cookie) from the checkout's own packages.
function linkModules(root: string): void {
  symlinkSync(realpathSync(join(REPO, 'node_modules')), join(root, 'node_modules'), 'dir')
}

// The package's own build command; a base whose types no longer check against today's
// node_modules still emits, so that only warns when the entry points came out.
function tsc(cwd: string, extra: string[], dist: string, log: (line: string) => void): void {
  const bin = join('node_modules', 'typescript', 'bin', 'tsc')
  try {
    execFileSync(process.execPath, [bin, '-p', 'tsconfig.build.json', ...extra], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (err) {
    const { stdout, signal } = err as { stdout?: string; signal?: string | null }
    if (signal) throw new Error(`tsc in ${cwd} was stopped by ${signal}`)
    const out = stdout || (err as Error).message
    if (!existsSync(join(dist, 'index.js'))) throw new Error(`tsc failed in ${cwd}: ${out}`)
    log(`  tsc reported errors in ${cwd}, output used anyway: ${out.split('\n')[0]}`)
  }
}

/**
 * Checks the base out into a temporary git worktree under `dir` and builds it there; the worktree
 * is removed by `cleanup` (also on failure or Ctrl-C).
 */
export function buildBase(
  base: { sha: string; label: string },
  dir: string,
  cleanup: Cleanup,
  log: (line: string) => void,
): Build {
  const root = join(dir, 'old')
  cleanup.add(() => removeWorktree(root))
  git(['worktree', 'add', '--detach', root, base.sha])
  linkModules(root)
  tsc(root, [], join(root, 'dist'), log)
  return { id: 'old', label: base.label, root }
}

function removeWorktree(root: string): void {
  if (!existsSync(root)) return
  try {
    git(['worktree', 'remove', '--force', root])
  } catch {
    // A half-made worktree git does not know: remove the folder and git's record of it.
    rmSync(root, { recursive: true, force: true })
    git(['worktree', 'prune'])
  }
}

/**
 * Builds the checkout's working tree (committed or not) into `dir`/new with the package's
 * package.json beside it, so it is imported the way the base is; the checkout's dist/ is left alone.
 */
export function buildWorkingTree(dir: string, log: (line: string) => void): Build {
  const root = join(dir, 'new')
  mkdirSync(root)
  copyFileSync(join(REPO, 'package.json'), join(root, 'package.json'))
  linkModules(root)
  const dist = join(root, 'dist')
  tsc(REPO, ['--outDir', dist], dist, log)
  const head = short(git(['rev-parse', 'HEAD']))
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== ''
  return { id: 'new', label: `working tree (${head}${dirty ? ' + changes' : ''})`, root }
}
