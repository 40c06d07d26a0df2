import type { ContenderResult } from './matrix.ts'
import { SCENARIOS } from './matrix.ts'
import { formatRps } from './stats.ts'

const WIDTH = 980
const LABEL_W = 420
const BAR_H = 16
const GAP = 4
const PANEL_HEAD = 34
const PANEL_GAP = 16

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function colour(result: ContenderResult): string {
  const id = result.contender.id
  if (id.startsWith('bare')) return '#9aa5b1'
  if (id.startsWith('sk-')) return '#1f7a4d'
  return '#c2692a'
}

/**
 * A hand-built horizontal bar chart: one panel per scenario, one bar per server (median req/s,
 * labelled), each panel on its own scale; sessionkit green, express-session orange, bare grey.
 */
export function resultsSvg(results: ContenderResult[], subtitle: string): string {
  const ran = results.filter((r) => !r.failed)
  const parts: string[] = []
  let y = 56
  for (const scenario of SCENARIOS) {
    const rows = ran.filter((r) => r.cells.has(scenario.id))
    const max = Math.max(1, ...rows.map((r) => r.cells.get(scenario.id)?.rps ?? 0))
    parts.push(
      `<text x="12" y="${y + 20}" class="panel">${escapeXml(scenario.label)} — median req/s (longer is better)</text>`,
    )
    y += PANEL_HEAD
    for (const result of rows) {
      const rps = result.cells.get(scenario.id)?.rps ?? 0
      const w = Math.max(1, ((WIDTH - LABEL_W - 80) * rps) / max)
      parts.push(
        `<text x="${LABEL_W - 8}" y="${y + BAR_H - 4}" class="label">${escapeXml(result.contender.label)}</text>`,
        `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${colour(result)}"/>`,
        `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${y + BAR_H - 4}" class="value">${formatRps(rps)}</text>`,
      )
      y += BAR_H + GAP
    }
    y += PANEL_GAP
  }
  const height = y + 10
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
<style>
.title{font-size:18px;font-weight:600;fill:#111}
.sub{font-size:12px;fill:#555}
.panel{font-size:14px;font-weight:600;fill:#222}
.label{font-size:12px;fill:#222;text-anchor:end}
.value{font-size:12px;fill:#222}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="24" class="title">sessionkit vs express-session: HTTP throughput (npm run bench)</text>
<text x="12" y="44" class="sub">${escapeXml(subtitle)}; 50 connections, autocannon on its own core; each panel on its own scale; green sessionkit, orange express-session, grey no sessions</text>
${parts.join('\n')}
</svg>
`
}
