import type { ContenderResult, Scenario } from './matrix.ts'
import { SCENARIOS } from './matrix.ts'
import { formatBytes, formatRatio, formatRps } from './stats.ts'

/** A measured ratio next to the issue's target for it. */
export interface TargetCheck {
  label: string
  target: number
  measured: number | undefined
  /** The same ratio from each side's fastest run: noise from other processes only slows runs down. */
  best?: number | undefined
}

type Pick = 'median' | 'best'

function rps(
  results: ContenderResult[],
  id: string,
  scenario: Scenario['id'],
  pick: Pick = 'median',
): number | undefined {
  const cell = results.find((r) => r.contender.id === id)?.cells.get(scenario)
  if (cell === undefined) return undefined
  return pick === 'median' ? cell.rps : Math.max(...cell.runs.map((run) => run.rps))
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b
}

/** The issue's targets, each with the ratio this run measured (from medians and from best runs). */
export function targetChecks(results: ContenderResult[]): TargetCheck[] {
  const median = checksFor(results, 'median')
  const best = checksFor(results, 'best')
  return median.map((check, i) => ({ ...check, best: best[i]?.measured }))
}

function checksFor(results: ContenderResult[], pick: Pick): TargetCheck[] {
  const r = (id: string, s: Scenario['id']) => rps(results, id, s, pick)
  const checks: TargetCheck[] = [
    {
      label: 'sessionkit+SQLite node:http /get vs bare node:http /get',
      target: 0.7,
      measured: ratio(r('sk-sqlite-node', 'get'), r('bare-node', 'get')),
    },
    {
      label: 'sessionkit+SQLite node:http /put (cookie) vs bare node:http /put',
      target: 0.5,
      measured: ratio(r('sk-sqlite-node', 'put'), r('bare-node', 'put')),
    },
    {
      label: 'sessionkit+SQLite node:http /put (new session) vs bare node:http /put',
      target: 0.5,
      measured: ratio(r('sk-sqlite-node', 'new'), r('bare-node', 'put')),
    },
    {
      label: 'sessionkit+SQLite Express /get vs bare Express /get',
      target: 0.85,
      measured: ratio(r('sk-sqlite-express', 'get'), r('bare-express', 'get')),
    },
    {
      label: 'sessionkit+SQLite Express /put (cookie) vs bare Express /put',
      target: 0.85,
      measured: ratio(r('sk-sqlite-express', 'put'), r('bare-express', 'put')),
    },
    {
      label: 'sessionkit+SQLite Express /put (new session) vs bare Express /put',
      target: 0.85,
      measured: ratio(r('sk-sqlite-express', 'new'), r('bare-express', 'put')),
    },
  ]
  const peers = [
    ['es-bs3-wal', 'express-session+better-sqlite3-session-store (WAL)'],
    ['es-cs3', 'express-session+connect-sqlite3'],
  ] as const
  for (const scenario of ['get', 'put', 'new'] as const) {
    const name = SCENARIOS.find((s) => s.id === scenario)?.label ?? scenario
    for (const [peer, peerLabel] of peers) {
      checks.push({
        label: `${name}: sessionkit+SQLite node:http vs ${peerLabel}`,
        target: 5,
        measured: ratio(r('sk-sqlite-node', scenario), r(peer, scenario)),
      })
    }
    for (const [peer, peerLabel] of peers) {
      checks.push({
        label: `${name}: sessionkit+SQLite Express vs ${peerLabel}`,
        target: 1.5,
        measured: ratio(r('sk-sqlite-express', scenario), r(peer, scenario)),
      })
    }
  }
  return checks
}

/** The main table as Markdown: median req/s and p99 per server × scenario. */
export function resultsTable(results: ContenderResult[]): string {
  const head = `| server | ${SCENARIOS.map((s) => `${s.label} req/s · p99`).join(' | ')} |`
  const rule = `| --- | ${SCENARIOS.map(() => '---:').join(' | ')} |`
  const rows = results.map((result) => {
    if (result.failed) {
      return `| ${result.contender.label} | ${SCENARIOS.map(() => 'did not run').join(' | ')} |`
    }
    const cells = SCENARIOS.map((s) => {
      const cell = result.cells.get(s.id)
      return cell ? `${formatRps(cell.rps)} · ${cell.p99.toFixed(1)} ms` : 'n/a'
    })
    return `| ${result.contender.label} | ${cells.join(' | ')} |`
  })
  return [head, rule, ...rows].join('\n')
}

/** Ratios of every server against one baseline, per scenario, as Markdown. */
export function ratioTable(results: ContenderResult[], baselineId: string): string {
  const base = results.find((r) => r.contender.id === baselineId)
  const head = `| server | ${SCENARIOS.map((s) => s.label).join(' | ')} |`
  const rule = `| --- | ${SCENARIOS.map(() => '---:').join(' | ')} |`
  const rows = results
    .filter((r) => !r.failed)
    .map((result) => {
      const cells = SCENARIOS.map((s) => {
        // Bare servers have no (d); they are compared on /put instead.
        const baseCell = base?.cells.get(s.id) ?? base?.cells.get('put')
        return formatRatio(ratio(result.cells.get(s.id)?.rps, baseCell?.rps))
      })
      return `| ${result.contender.label} | ${cells.join(' | ')} |`
    })
  return [head, rule, ...rows].join('\n')
}

/** The targets table as Markdown, with a verdict per line. */
export function targetTable(checks: TargetCheck[]): string {
  const rows = checks.map((c) => {
    const verdict =
      c.measured === undefined ? 'not measured' : c.measured >= c.target ? 'met' : 'missed'
    return `| ${c.label} | ≥ ${c.target}× | ${formatRatio(c.measured)} | ${verdict} | ${formatRatio(c.best)} |`
  })
  return [
    '| target | wanted | measured (medians) | verdict | from best runs |',
    '| --- | ---: | ---: | --- | ---: |',
    ...rows,
  ].join('\n')
}

/** Rows and file size (or sessions held in memory) after the runs, per store. */
export function afterTable(results: ContenderResult[]): string {
  const rows = results
    .filter((r) => r.after !== undefined)
    .map((r) => {
      const after = r.after as NonNullable<ContenderResult['after']>
      const d = r.cells.get('new')
      const created = d ? d.runs.reduce((sum, run) => sum + run.total, 0) : 0
      const size = after.bytes === undefined ? 'in memory' : formatBytes(after.bytes)
      return `| ${r.contender.label} | ${after.rows.toLocaleString('en')} | ${size} | ${created.toLocaleString('en')} |`
    })
  return [
    '| store | sessions stored after | file (db + wal) | (d) requests measured |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n')
}

/** The lowest and highest req/s of each cell's runs, so the noise of a run is visible. */
export function spreadTable(results: ContenderResult[]): string {
  const head = `| server | ${SCENARIOS.map((s) => s.label).join(' | ')} |`
  const rule = `| --- | ${SCENARIOS.map(() => '---:').join(' | ')} |`
  const rows = results
    .filter((r) => !r.failed)
    .map((result) => {
      const cells = SCENARIOS.map((s) => {
        const runs = result.cells.get(s.id)?.runs
        if (runs === undefined) return 'n/a'
        const rps = runs.map((r) => r.rps)
        return `${formatRps(Math.min(...rps))} – ${formatRps(Math.max(...rps))}`
      })
      return `| ${result.contender.label} | ${cells.join(' | ')} |`
    })
  return [head, rule, ...rows].join('\n')
}
