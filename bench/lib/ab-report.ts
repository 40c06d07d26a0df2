import { median } from './stats.ts'

/** One measured row of an A/B run: per round, the old and new builds' rates, and a peer's. */
export interface AbSamples {
  label: string
  old: number[]
  new: number[]
  /** A reference measured in the same rounds (bare node:http), when there is one. */
  peer?: number[] | undefined
}

/** What a row's samples say: medians, and new/old as a median with its min–max over rounds. */
export interface AbSummary {
  label: string
  old: number
  new: number
  ratio: number
  min: number
  max: number
  peer?: number | undefined
}

/**
 * Summarises one row. Each round's old and new runs were made back to back, so their ratio
 * cancels drift in the machine; `ratio` is the median of those per-round ratios, `min`/`max` their
 * range.
 */
export function summarise(samples: AbSamples): AbSummary {
  const ratios = samples.new.map((n, i) => n / (samples.old[i] as number))
  return {
    label: samples.label,
    old: median(samples.old),
    new: median(samples.new),
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    peer: samples.peer === undefined ? undefined : median(samples.peer),
  }
}

function rate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—'
  return Math.round(n).toLocaleString('en-US')
}

function percent(ratio: number): string {
  const p = (ratio - 1) * 100
  return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)} %`
}

/**
 * A Markdown table of `rows` in `unit` (req/s, ops/s): both medians, new/old with its per-round
 * range, and the peer column when `peer` names one.
 */
export function abTable(
  rows: AbSummary[],
  names: { old: string; new: string; unit: string; peer?: string | undefined },
): string {
  const head = [
    '',
    `old ${names.unit}`,
    `new ${names.unit}`,
    'new/old',
    'range over rounds',
    ...(names.peer ? [`${names.peer} ${names.unit}`] : []),
  ]
  const lines = rows.map((r) => [
    r.label,
    rate(r.old),
    rate(r.new),
    `${r.ratio.toFixed(3)} (${percent(r.ratio)})`,
    `${r.min.toFixed(3)}–${r.max.toFixed(3)}`,
    ...(names.peer ? [rate(r.peer)] : []),
  ])
  const row = (cells: string[]): string => `| ${cells.join(' | ')} |`
  return [
    `old = ${names.old}; new = ${names.new}`,
    '',
    row(head),
    row(head.map((_, i) => (i === 0 ? '---' : '---:'))),
    ...lines.map(row),
  ].join('\n')
}

/** The rows whose per-round new/old range is wider than `limit` (0.05 = 5 points). */
export function wideRows(rows: AbSummary[], limit: number): AbSummary[] {
  return rows.filter((r) => r.max - r.min > limit)
}
