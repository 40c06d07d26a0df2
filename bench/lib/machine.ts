import { readFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'

/** Where and with what a run happened. */
export interface MachineInfo {
  summary: string
  lines: string[]
}

const PACKAGES = [
  'express',
  'express-session',
  'better-sqlite3',
  'better-sqlite3-session-store',
  'connect-sqlite3',
  'sqlite3',
  'autocannon',
  'tsx',
]

function version(name: string): string {
  try {
    const path = join(import.meta.dirname, '..', '..', 'node_modules', name, 'package.json')
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

/** CPU, cores, memory, load, Node and the versions of every package the servers use. */
export function machineInfo(loadAtStart: number[] = []): MachineInfo {
  const cpu = cpus()
  const model = cpu[0]?.model.trim() ?? 'unknown CPU'
  const ownVersion = version('..')
  const pkgs = PACKAGES.map((name) => `${name} ${version(name)}`).join(', ')
  const load = loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
  const summary = `${model}, ${cpu.length} cores, Node ${process.version}`
  return {
    summary,
    lines: [
      `CPU: ${model}, ${cpu.length} cores; ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; Linux ${release()}`,
      `Node ${process.version}; sessionkit ${ownVersion === 'not installed' ? '(this checkout)' : ownVersion}; ${pkgs}`,
      `Load average (1, 5, 15 min) at the start: ${loadAtStart.map((n) => n.toFixed(2)).join(' ')}; at the end: ${load}`,
    ],
  }
}
