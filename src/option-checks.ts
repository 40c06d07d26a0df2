import { SessionError } from './errors.js'
import { unknownKey } from './nearest.js'

export function invalid(option: string, message: string): never {
  throw new SessionError('ERR_OPTIONS', `SessionManager: option ${option} ${message}`)
}

/** Throws ERR_OPTIONS for a key of `given` not in `allowed`, naming the nearest known one. */
export function checkKeys(given: object, allowed: readonly string[], where: string): void {
  const unknown = unknownKey(given, allowed)
  if (unknown === undefined) return
  const { key, near } = unknown
  invalid(
    `${where}${key}`,
    `is not a known option (${near === undefined ? 'check its spelling' : `did you mean ${where}${near}?`})`,
  )
}

/** A duration option in ms, or its default; ERR_OPTIONS naming it otherwise. */
export function duration(
  value: unknown,
  option: string,
  fallback: number,
  allowZero: boolean,
): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    invalid(
      option,
      `must be a ${allowZero ? 'non-negative' : 'positive'} number of milliseconds, got ${String(value)}`,
    )
  }
  return value
}

/** What a wrong option value is, for a message: its type, and a string's text. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'function') return 'a function (a class? pass an instance)'
  return value === null ? 'null' : `a ${typeof value}`
}

/** A string as the single-quoted literal a user would write. */
export function quoted(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`
}

/** The `maxBytes` option, or its default of 64 KiB; ERR_OPTIONS otherwise. */
export function byteCount(value: unknown): number {
  if (value === undefined) return 65_536
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    invalid('maxBytes', `must be a non-negative integer number of bytes, got ${String(value)}`)
  }
  return value
}

/** A boolean option, or its default; ERR_OPTIONS naming it otherwise. */
export function flag(value: unknown, option: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') invalid(option, `must be true or false, got ${String(value)}`)
  return value
}

/** One of `allowed`, or the default; ERR_OPTIONS naming the option otherwise. */
export function oneOf<T extends string>(
  value: unknown,
  option: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback
  if (!allowed.includes(value as T)) {
    invalid(
      option,
      `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${String(value)}`,
    )
  }
  return value as T
}
