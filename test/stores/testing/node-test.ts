import { execFile } from 'node:child_process'
import { versions } from 'node:process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const reporter = fileURLToPath(new URL('fixtures/json-reporter.mjs', import.meta.url))
// The runner-agnostic claim is about node:test, so files run on Node even when Vitest runs on Bun or Deno.
const node = versions.bun !== undefined || versions.deno !== undefined ? 'node' : process.execPath

/** One test or suite as node:test reported it: the titles down to it, and how it ended. */
export interface Result {
  path: string[]
  status: 'passed' | 'failed' | 'skipped'
  message?: string
}

/** Runs a node:test file (TypeScript, through tsx) and resolves one result per test and suite. */
export function runNodeTest(file: string, cwd = root): Promise<Result[]> {
  return new Promise((resolve, reject) => {
    execFile(
      node,
      ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, file],
      { cwd, maxBuffer: 16 * 1024 * 1024 },
      // node:test exits non-zero when a test failed, which some fixtures make sure of.
      (err, stdout, stderr) => {
        const lines = stdout.split('\n').filter((l) => l.startsWith('{'))
        if (lines.length === 0)
          reject(new Error(`no results from ${file}: ${err ?? ''}\n${stderr}`))
        else resolve(lines.map((l) => JSON.parse(l) as Result))
      },
    )
  })
}
