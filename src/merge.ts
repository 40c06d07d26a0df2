import { sameBytes } from './bytes.js'
import type { Codec, SessionRecord } from './codec.js'

const NO_DEADLINE = new Date(0)

/**
 * A three-way merge of session values: `theirs` (the latest stored state) plus what `ours` (this
 * request's state) changed relative to `base` (what this request loaded or last wrote). A key
 * ours removed is removed, a key whose value ours changed takes our value, and every other key
 * keeps theirs; the deadline is ours when ours moved it. Values are compared by their encoding,
 * so a value changed in place (an array pushed to) counts as changed. Mutates and returns
 * `theirs`.
 */
export function mergeRecords(
  codec: Codec,
  base: SessionRecord,
  ours: SessionRecord,
  theirs: SessionRecord,
): SessionRecord {
  const values = theirs.values
  for (const key of base.values.keys()) if (!ours.values.has(key)) values.delete(key)
  for (const [key, value] of ours.values) {
    if (!base.values.has(key) || !sameValue(codec, base.values.get(key), value)) {
      values.set(key, value)
    }
  }
  if (ours.deadline.getTime() !== base.deadline.getTime()) theirs.deadline = ours.deadline
  return theirs
}

function sameValue(codec: Codec, a: unknown, b: unknown): boolean {
  if (Object.is(a, b) && (typeof a !== 'object' || a === null)) return true
  return sameBytes(
    codec.encode(NO_DEADLINE, new Map([['', a]])),
    codec.encode(NO_DEADLINE, new Map([['', b]])),
  )
}
