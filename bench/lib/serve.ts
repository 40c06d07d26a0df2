import type { Server } from 'node:http'

/** A message the orchestrator sends to a server process over IPC. */
export type ServerCommand = { type: 'stats' } | { type: 'stop' }

/** What a server process reports about itself when asked. */
export interface ServerStats {
  heapUsed: number
  rss: number
  /** Sessions held in process memory, for in-memory stores; undefined for file stores. */
  sessions?: number | undefined
}

/**
 * Listens on 127.0.0.1 on a free port, tells the parent process the port over IPC, then answers
 * `stats` and `stop` messages; `countSessions` lets an in-memory store report its size.
 */
export function serve(
  server: Server,
  options: { countSessions?: () => number | Promise<number>; close?: () => void } = {},
): void {
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    process.send?.({ type: 'ready', port })
  })
  process.on('message', async (message: ServerCommand) => {
    if (message.type === 'stats') {
      const memory = process.memoryUsage()
      const sessions = options.countSessions ? await options.countSessions() : undefined
      const stats: ServerStats = { heapUsed: memory.heapUsed, rss: memory.rss, sessions }
      process.send?.({ type: 'stats', stats })
    } else if (message.type === 'stop') {
      options.close?.()
      server.closeAllConnections()
      server.close(() => process.exit(0))
    }
  })
  process.on('disconnect', () => process.exit(0))
}

/** Reports a server that cannot start (a missing or broken package) and exits. */
export function failToStart(err: unknown): never {
  const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
  process.send?.({ type: 'failed', reason })
  process.exit(1)
}
