import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built command (global setup builds dist), run as users run it. */
export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

/** What one run of the command gave. */
export interface Result {
  code: number
  stdout: string
  stderr: string
}

/** Runs `sessionkit …args` as a process with `input` on stdin; resolves its exit code and output. */
export function cli(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...options.env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : (child.exitCode ?? -1), stdout, stderr }),
    )
    child.stdin?.end(options.input ?? '')
  })
}

/** JSON Lines output, one object per line. */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
