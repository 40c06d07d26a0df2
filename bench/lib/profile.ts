import type { LoadGenerator } from './load.ts'
import type { LoadPlan } from './matrix.ts'

/** Profiles sessionkit + SQLite on node:http under /get and /put load. */
export async function runProfile(
  _load: LoadGenerator,
  _plan: LoadPlan,
  _dir: string,
  log: (line: string) => void,
): Promise<void> {
  log('profile: not implemented yet')
}
