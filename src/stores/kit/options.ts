import { unknownKey } from '../../nearest.js'

/**
 * Rejects an option object with a key the store does not know, naming it and the nearest known
 * one ("did you mean cleanupInterval?"), so a misspelt option never silently keeps its default.
 * Also rejects `options` that is not an object.
 */
export function checkOptionKeys(owner: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${owner}: options must be an object, got ${String(options)}`)
  }
  const unknown = unknownKey(options, known)
  if (unknown === undefined) return
  const { key, near } = unknown
  throw new TypeError(
    `${owner}: unknown option ${JSON.stringify(key)}${near === undefined ? '' : ` (did you mean ${near}?)`}; the options are ${known.join(', ')}`,
  )
}

/** A positive integer option (a batch size), or its default; a RangeError naming it otherwise. */
export function positiveInteger(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${owner}: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/** A non-negative integer of ms (a busy timeout), or its default; a RangeError naming it otherwise. */
export function nonNegativeInteger(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `${owner}: ${name} must be a non-negative integer of ms, got ${String(value)}`,
    )
  }
  return value
}

/** A positive number of ms (a timeout), or its default; a RangeError naming it otherwise. */
export function positiveMs(owner: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${owner}: ${name} must be a positive number of ms, got ${String(value)}`)
  }
  return value
}
