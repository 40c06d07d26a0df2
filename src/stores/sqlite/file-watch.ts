import { type BigIntStats, stat, statSync, unlinkSync } from 'node:fs'

/** Which file a path names: its device and inode, exact as bigints. */
export interface FileId {
  dev: bigint
  ino: bigint
}

/** The file `path` names now, or undefined when there is none (or it cannot be looked at). */
export function fileId(path: string): FileId | undefined {
  try {
    const info = statSync(path, { bigint: true, throwIfNoEntry: false })
    return info === undefined ? undefined : { dev: info.dev, ino: info.ino }
  } catch {
    return undefined
  }
}

const same = (a: FileId | undefined, b: BigIntStats | FileId | undefined): boolean =>
  a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino

/**
 * The `-wal` and `-shm` of `file` as they are now, to be removed by {@link removeStaleSidecars}
 * once `file` itself has gone: SQLite leaves them behind when a connection to a deleted or
 * moved database closes, and would replay that old WAL into a new file at the same path.
 */
export function sidecarIds(file: string): Map<string, FileId> {
  const ids = new Map<string, FileId>()
  for (const sidecar of [`${file}-wal`, `${file}-shm`]) {
    const id = fileId(sidecar)
    if (id !== undefined) ids.set(sidecar, id)
  }
  return ids
}

/**
 * Removes the sidecars recorded by {@link sidecarIds} that are still the same files; a `-wal`
 * or `-shm` made since (by another process already on a new file) is left alone. Call it while
 * the old connection is still open, so their inode numbers cannot have been reused.
 */
export function removeStaleSidecars(ids: ReadonlyMap<string, FileId>): void {
  for (const [sidecar, id] of ids) {
    if (!same(id, fileId(sidecar))) continue
    try {
      unlinkSync(sidecar)
    } catch {
      // Gone meanwhile (another process cleaned it up first): nothing left to replay.
    }
  }
}

/**
 * Checks every `interval` ms, on an unref'd timer and with one asynchronous `stat` (never on a
 * store call's path), that `path` still names the file that was open when it started or was
 * last {@link FileWatch#rebase}d, and calls `tick` with the answer. A missing path or another
 * file there is `false`; a path that cannot be looked at (a folder made unreadable) is taken as
 * unchanged, since the open file may well still be there.
 */
export class FileWatch {
  readonly #path: string
  #id: FileId | undefined
  #timer: NodeJS.Timeout | undefined
  #checking = false

  constructor(path: string, interval: number, tick: (same: boolean) => void) {
    this.#path = path
    this.#id = fileId(path)
    const done = (err: NodeJS.ErrnoException | null, info: BigIntStats | undefined): void => {
      this.#checking = false
      if (this.#timer === undefined) return
      if (err !== null) tick(err.code !== 'ENOENT' && err.code !== 'ENOTDIR')
      else tick(same(this.#id, info))
    }
    this.#timer = setInterval(() => {
      if (this.#checking) return
      this.#checking = true
      stat(this.#path, { bigint: true }, done)
    }, interval)
    this.#timer.unref()
  }

  /** The path watched. */
  get path(): string {
    return this.#path
  }

  /** Takes the file the path names now as the open one (after the store reopened it). */
  rebase(): void {
    this.#id = fileId(this.#path)
  }

  /** Stops the timer; idempotent. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
