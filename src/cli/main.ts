#!/usr/bin/env node
// The `sessionkit` command (package.json "bin"). Everything is in ./commands.ts; this file only
// connects it to the process.
import { createInterface } from 'node:readline'
import { run } from './commands.js'
import type { Io } from './format.js'
import { openBackend } from './open.js'

const tty = process.stdout.isTTY === true
const io: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  tty,
  color: tty && (process.env.NO_COLOR ?? '') === '',
  lines: () => createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
}

process.exitCode = await run(process.argv.slice(2), io, openBackend)
