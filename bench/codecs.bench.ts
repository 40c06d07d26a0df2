// `npm run bench:codecs`: gobCodec against jsonCodec on a typical 3-key session (goal: encode
// and decode each ≤ 2× jsonCodec's time), and the blob sizes. One process, one run; not a CI test.

import { gobCodec } from '../src/gob/index.ts'
import type { Codec } from '../src/index.ts'
import { jsonCodec } from '../src/index.ts'

const ROUNDS = 15
const OPS = 50_000
const deadline = new Date(Date.now() + 86_400_000)
const values = new Map<string, unknown>([
  ['userId', 42],
  ['flash', 'Welcome back, Ada!'],
  ['__rememberMe', true],
])
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number

function opsPerSecond(run: () => void): number {
  const started = performance.now()
  for (let i = 0; i < OPS; i++) run()
  return OPS / ((performance.now() - started) / 1000)
}

const codecs: Record<string, Codec> = { json: jsonCodec, gob: gobCodec }
const blobs = Object.fromEntries(
  Object.entries(codecs).map(([name, c]) => [name, c.encode(deadline, values)]),
) as Record<string, Uint8Array>
const results: Record<string, { encode: number[]; decode: number[] }> = {
  json: { encode: [], decode: [] },
  gob: { encode: [], decode: [] },
}
for (let round = 0; round <= ROUNDS; round++) {
  for (const name of round % 2 ? ['gob', 'json'] : ['json', 'gob']) {
    const codec = codecs[name] as Codec
    const blob = blobs[name] as Uint8Array
    const encode = opsPerSecond(() => codec.encode(deadline, values))
    const decode = opsPerSecond(() => codec.decode(blob))
    if (round === 0) continue
    results[name]?.encode.push(encode)
    results[name]?.decode.push(decode)
  }
}
const ratio = (op: 'encode' | 'decode') =>
  median((results.json?.[op] ?? []).map((j, i) => j / (results.gob?.[op][i] as number)))
console.log(
  `3-key session (userId: 42, flash: a string, __rememberMe: true), median of ${ROUNDS} rounds:`,
)
console.log('codec   encode ops/s   decode ops/s   blob bytes')
for (const name of ['json', 'gob']) {
  const r = results[name] as { encode: number[]; decode: number[] }
  console.log(
    `${name.padEnd(7)} ${Math.round(median(r.encode)).toLocaleString().padStart(12)}   ${Math.round(median(r.decode)).toLocaleString().padStart(12)}   ${String(blobs[name]?.length).padStart(10)}`,
  )
}
console.log(
  `gob time / json time (goal ≤ 2×): encode ${ratio('encode').toFixed(2)}×, decode ${ratio('decode').toFixed(2)}×`,
)
