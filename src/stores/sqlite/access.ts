import { accessSync, constants, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { StoreError } from '../../errors.js'

/**
 * Throws a StoreError naming the file when this process could not write the database at `path`
 * or the files WAL keeps beside it. Checked before SQLite opens anything: SQLite would quietly
 * open a read-only file read-only, and create its `-wal` and `-shm` read-only too, which then
 * keep the database read-only after the file itself is fixed.
 */
export function assertWritable(path: string): void {
  const file = resolve(path)
  const blocked = (target: string, why: string): never => {
    throw new StoreError(
      `SQLiteStore open of ${JSON.stringify(path)} failed: ${target} is not writable by this process (${why}); make it writable (chmod u+w, or chown to the app's user): a session store must write`,
    )
  }
  const check = (target: string): void => {
    try {
      accessSync(target, constants.W_OK)
    } catch (err) {
      blocked(target, (err as NodeJS.ErrnoException).code ?? String(err))
    }
  }
  if (existsSync(file)) check(file)
  else check(dirname(file))
  for (const sidecar of [`${file}-wal`, `${file}-shm`]) {
    if (existsSync(sidecar)) check(sidecar)
  }
  // WAL creates its two files beside the database, so the folder must take new files too.
  if (!existsSync(`${file}-wal`) || !existsSync(`${file}-shm`)) check(dirname(file))
}
