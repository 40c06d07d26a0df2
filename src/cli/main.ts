#!/usr/bin/env node
// The `sessionkit` command (package.json "bin"). Everything is in ./commands.ts; this file only
// connects it to the process.
import { createInterface } from 'node:readline'
import { run } from './commands.js'
import type { Io } from './format.js'
import { openBackend } from './open.js'

// A reader that went away (`sessionkit list … | head -2`) is the end of the output, not an error:
// the failed write marks stdout errored at once, the 'error' event follows later and is dropped.
const gone = (err: NodeJS.ErrnoException): void => {
  if (err.code !== 'EPIPE') throw err
}
process.stdout.on('error', gone)
process.stderr.on('error', gone)

const tty = process.stdout.isTTY === true
const io: Io = {
  out: (text) => {
    if (!io.closed) process.stdout.write(`${text}\n`)
  },
  err: (text) => {
    if (process.stderr.errored == null) process.stderr.write(`${text}\n`)
  },
  get closed() {
    return process.stdout.errored != null
  },
  tty,
  color: tty && (process.env.NO_COLOR ?? '') === '',
  lines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
}

process.exitCode = await run(process.argv.slice(2), io, openBackend)
