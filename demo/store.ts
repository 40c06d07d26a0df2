import type { Store } from '../src/index.ts'
import { openSQLiteStore } from '../src/stores/sqlite/index.ts'

/** A store the demo can shut down. */
export type DemoStore = Store & { close(): void | Promise<void> }

/**
 * Opens (creating when missing) the demo's SQLite session file at `path`, in WAL mode; the
 * store's `close()` closes the file.
 */
export function openDemoStore(path: string): DemoStore {
  return openSQLiteStore(path)
}
