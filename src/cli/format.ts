import { styleText } from 'node:util'

/** Where a command writes, and whether it may use colour and redraw lines (a terminal). */
export interface Io {
  out(text: string): void
  err(text: string): void
  /** stdout is a terminal: progress bars redraw, colour is allowed unless NO_COLOR is set. */
  readonly tty: boolean
  readonly color: boolean
  /** True once stdout's reader has gone (a closed pipe): output is dropped, commands stop early. */
  readonly closed: boolean
  /** Lines of standard input, for `import`. */
  lines(): AsyncIterable<string>
}

/** `text` in bold (a label) when colour is on. */
export function label(io: Io, text: string): string {
  return io.color ? styleText('bold', text) : text
}

/** `text` dimmed (a secondary detail) when colour is on. */
export function dim(io: Io, text: string): string {
  return io.color ? styleText('dim', text) : text
}

/** A byte count the way people read it: 512 B, 1.2 KiB, 3.4 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = n / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/** A count with thousands separators, the same on every machine. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** Columns padded to their widest cell, two spaces apart; the header row is bold with colour. */
export function table(io: Io, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [label(io, line(header)), ...rows.map(line)].join('\n')
}

/**
 * A JSON-safe view of a decoded session value: Dates as ISO strings, bytes as base64, bigints as
 * strings, Maps as objects and Sets as arrays, so `show` and `export` print what Go or Node stored.
 */
export function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString()
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') }
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]))
  }
  if (value instanceof Set) return [...value].map(plain)
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    const own = Object.entries(value)
    // A Go value with its own string form (GoComplex) prints as that.
    if (own.length === 0 || value.constructor !== Object) {
      const text = String(value)
      if (text !== '[object Object]') return text
    }
    return Object.fromEntries(own.map(([k, v]) => [k, plain(v)]))
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  return value
}
