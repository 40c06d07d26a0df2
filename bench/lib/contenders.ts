import type { ChildProcess } from 'node:child_process'
import { fork } from 'node:child_process'
import { join } from 'node:path'
import { pinToCore } from './cpu.ts'
import type { ServerStats } from './serve.ts'

/** One server under test: which file runs it, and what it stores sessions in. */
export interface Contender {
  id: string
  label: string
  file: string
  /** 'none' for the bare servers, which hold no sessions. */
  store: 'none' | 'memory' | 'sqlite'
  framework: 'node:http' | 'Express 5'
  env?: Record<string, string>
  /** Kept in `--quick` runs. */
  quick: boolean
  /** A package it needs that is no devDependency (`npm run bench` installs it first). */
  installedOnDemand?: 'connect-sqlite3'
}

/** Every contender, in the order the tables list them. */
export const CONTENDERS: Contender[] = [
  {
    id: 'bare-node',
    label: 'bare node:http',
    file: 'bare-node.ts',
    store: 'none',
    framework: 'node:http',
    quick: true,
  },
  {
    id: 'bare-express',
    label: 'bare Express 5',
    file: 'bare-express.ts',
    store: 'none',
    framework: 'Express 5',
    quick: true,
  },
  {
    id: 'sk-memory-node',
    label: 'sessionkit + MemoryStore (node:http)',
    file: 'sessionkit-memory-node.ts',
    store: 'memory',
    framework: 'node:http',
    quick: true,
  },
  {
    id: 'sk-sqlite-node',
    label: 'sessionkit + SQLiteStore WAL (node:http)',
    file: 'sessionkit-sqlite-node.ts',
    store: 'sqlite',
    framework: 'node:http',
    quick: true,
  },
  {
    id: 'sk-sqlite-node-idle',
    label: 'sessionkit + SQLiteStore WAL (node:http), idleTimeout 20 min',
    file: 'sessionkit-sqlite-node.ts',
    store: 'sqlite',
    framework: 'node:http',
    env: { BENCH_IDLE_MS: String(20 * 60_000) },
    quick: false,
  },
  {
    id: 'sk-sqlite-express',
    label: 'sessionkit + SQLiteStore WAL (Express)',
    file: 'sessionkit-sqlite-express.ts',
    store: 'sqlite',
    framework: 'Express 5',
    quick: true,
  },
  {
    id: 'es-memory',
    label: 'express-session + MemoryStore',
    file: 'express-session-memory.ts',
    store: 'memory',
    framework: 'Express 5',
    quick: false,
  },
  {
    id: 'es-bs3',
    label: 'express-session + better-sqlite3-session-store (as shipped)',
    file: 'express-session-better-sqlite3.ts',
    store: 'sqlite',
    framework: 'Express 5',
    quick: false,
  },
  {
    id: 'es-bs3-wal',
    label: 'express-session + better-sqlite3-session-store (WAL)',
    file: 'express-session-better-sqlite3.ts',
    store: 'sqlite',
    framework: 'Express 5',
    env: { BENCH_WAL: '1' },
    quick: true,
  },
  {
    id: 'es-cs3',
    label: 'express-session + connect-sqlite3',
    file: 'express-session-connect-sqlite3.ts',
    store: 'sqlite',
    framework: 'Express 5',
    quick: false,
    installedOnDemand: 'connect-sqlite3',
  },
]

type Reply =
  | { type: 'ready'; port: number }
  | { type: 'failed'; reason: string }
  | { type: 'stats'; stats: ServerStats }

let compiled: string | undefined

/**
 * Runs servers from `dir`, the tsc output of bench/servers, instead of their TypeScript sources
 * under `node --import tsx`; undefined goes back to tsx.
 */
export function useCompiledServers(dir: string | undefined): void {
  compiled = dir
}

/** How servers are run, for the report. */
export function serverRuntime(): string {
  return compiled === undefined ? 'node --import tsx (TypeScript sources)' : 'node on tsc output'
}

/** A running server process on 127.0.0.1. */
export class ServerProcess {
  readonly child: ChildProcess
  readonly port: number
  readonly #stderr: () => string

  private constructor(child: ChildProcess, port: number, stderr: () => string) {
    this.child = child
    this.port = port
    this.#stderr = stderr
  }

  /** The first error line the server printed, so a crash under load explains itself. */
  errorLine(): string | undefined {
    const lines = this.#stderr().split('\n')
    return lines.find((l) => /^\w*Error\b/.test(l.trim())) ?? lines.find((l) => l.trim() !== '')
  }

  /**
   * Starts `contender` in its own process (`node --import tsx`, plus `extraArgs`), pins it to
   * `core`, and resolves once it listens; rejects with the server's own reason when it cannot start.
   */
  static start(
    contender: Contender,
    options: { db?: string | undefined; core?: number | undefined; execArgv?: string[] } = {},
  ): Promise<ServerProcess> {
    const file =
      compiled === undefined
        ? join(import.meta.dirname, '..', 'servers', contender.file)
        : join(compiled, contender.file.replace(/\.ts$/, '.js'))
    const child = fork(file, [], {
      execArgv: [
        ...(options.execArgv ?? []),
        ...(compiled === undefined ? ['--import', 'tsx'] : []),
      ],
      env: { ...process.env, ...contender.env, ...(options.db ? { BENCH_DB: options.db } : {}) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    })
    if (options.core !== undefined && child.pid !== undefined) pinToCore(child.pid, options.core)
    child.on('error', () => {}) // a send to a dead server is reported by its exit instead
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill()
        reject(new Error('did not start within 30 s'))
      }, 30_000)
      child.on('message', (msg: Reply) => {
        if (msg.type === 'ready') {
          clearTimeout(timer)
          resolve(new ServerProcess(child, msg.port, () => stderr))
        } else if (msg.type === 'failed') {
          clearTimeout(timer)
          reject(new Error(msg.reason))
        }
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        const line =
          stderr
            .trim()
            .split('\n')
            .find((l) => /Error/.test(l)) ?? stderr.trim()
        reject(new Error(`exited with code ${code}${line ? `: ${line.slice(0, 300)}` : ''}`))
      })
    })
  }

  /** The server's memory use and, for in-memory stores, how many sessions it holds. */
  stats(): Promise<ServerStats> {
    return new Promise((resolve) => {
      const onMessage = (msg: Reply): void => {
        if (msg.type !== 'stats') return
        this.child.off('message', onMessage)
        resolve(msg.stats)
      }
      this.child.on('message', onMessage)
      this.child.send({ type: 'stats' })
    })
  }

  /** Asks the server to close and waits for its process to end (kills it after 5 s). */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.connected) {
      if (this.child.exitCode === null) this.child.kill('SIGKILL')
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
      this.child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      this.child.send({ type: 'stop' })
    })
  }
}
