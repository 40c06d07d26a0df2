import { createRequire } from 'node:module'

/** @internal True when the package `name` can be found from sessionkit's own folder. */
export function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name)
    return true
  } catch {
    return false
  }
}
