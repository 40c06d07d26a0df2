import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { StoreError } from '../../errors.js'

/**
 * Throws a StoreError naming the file and what to do when this process could not open the
 * database at `path` for writing: a folder that does not exist, a path that is a folder, or a
 * file, `-wal`, `-shm` or folder this process may not write. Checked before SQLite opens
 * anything: SQLite says only "unable to open database file" for the first two, and it would
 * quietly open a read-only file read-only, and create its `-wal` and `-shm` read-only too,
 * which then keep the database read-only after the file itself is fixed.
 */
export function assertWritable(path: string): void {
  const file = resolve(path)
  const folder = dirname(file)
  const fail = (why: string): never => {
    throw new StoreError(`SQLiteStore open of ${JSON.stringify(path)} failed: ${why}`)
  }
  const blocked = (target: string, why: string): never =>
    fail(
      `${target} is not writable by this process (${why}); make it writable (chmod u+w, or chown to the app's user): a session store must write`,
    )
  const check = (target: string): void => {
    try {
      accessSync(target, constants.W_OK)
    } catch (err) {
      blocked(target, (err as NodeJS.ErrnoException).code ?? String(err))
    }
  }
  const missing = missingFolder(folder)
  if (missing !== undefined) fail(missing)
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true) {
    fail(
      `${file} is a folder, not a database file: give the path of a file in it (for example ${join(file, 'sessions.db')}); openSQLiteStore creates the file when it is missing`,
    )
  }
  if (existsSync(file)) check(file)
  else check(folder)
  for (const sidecar of [`${file}-wal`, `${file}-shm`]) {
    if (existsSync(sidecar)) check(sidecar)
  }
  // WAL creates its two files beside the database, so the folder must take new files too.
  if (!existsSync(`${file}-wal`) || !existsSync(`${file}-shm`)) check(folder)
}

// The nearest ancestor that exists tells a missing folder from one blocked by a file of that
// name; any other failure to look (a folder this process may not search) is left to the
// writability checks, which name it.
function missingFolder(folder: string): string | undefined {
  let probe = folder
  for (;;) {
    let isFolder: boolean
    try {
      isFolder = statSync(probe).isDirectory()
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      const parent = dirname(probe)
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === probe) return undefined
      probe = parent
      continue
    }
    if (!isFolder) {
      return `${probe} is a file, not a folder, so the database cannot be created under it: fix the path`
    }
    if (probe === folder) return undefined
    return `the folder ${folder} does not exist: create it (mkdir -p ${JSON.stringify(folder)}) or fix the path; openSQLiteStore creates the database file, not its folder`
  }
}
