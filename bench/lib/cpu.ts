import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'

let hasTaskset: boolean | undefined

/** True when `taskset` can pin processes and the machine has at least two cores. */
export function canPin(): boolean {
  if (hasTaskset === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
      hasTaskset = cpus().length >= 2
    } catch {
      hasTaskset = false
    }
  }
  return hasTaskset
}

/** Pins every thread of process `pid` to one core; a no-op without taskset. */
export function pinToCore(pid: number, core: number): void {
  if (!canPin()) return
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' })
}
