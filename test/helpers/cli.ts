import { execFile, spawn } from 'node:child_process'
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

/** What a run whose reader went away gave. */
export interface ClosedPipeResult {
  /** The exit code, or null when a signal (or the 30 s guard) ended it. */
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  /** The lines read before the reader went away. */
  read: string[]
  /** From the reader going away to the process having exited. */
  msAfterClose: number
}

/**
 * Runs `sessionkit …args` with stdout a pipe whose reader goes away after `lines` lines, as
 * `sessionkit … | head -n <lines>` does; with 0 it goes away at once, before the first write.
 */
export function cliClosingAfter(args: string[], lines: number): Promise<ClosedPipeResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let read = ''
    let closedAt: number | undefined
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const close = (): void => {
      closedAt ??= performance.now()
      child.stdout.destroy()
    }
    if (lines === 0) close()
    else {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        read += chunk
        if (read.split('\n').length > lines) close()
      })
    }
    // A command that never notices is ended here, and the test sees the signal.
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({
        code,
        signal,
        stderr,
        read: read.split('\n').slice(0, lines),
        msAfterClose: performance.now() - (closedAt ?? performance.now()),
      })
    })
  })
}

/** JSON Lines output, one object per line. */
export const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
