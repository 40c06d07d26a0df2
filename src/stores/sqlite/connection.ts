import { runOnce } from './driver.js'
import { sqliteCode, toSQLiteStoreError } from './errors.js'
import {
  endedSchemaSQL,
  endedStatementsSQL,
  endedTableName,
  indexName,
  ownersSchemaSQL,
  ownersStatementsSQL,
  schemaSQL,
  statementsSQL,
} from './sql.js'
import type { SQLiteDatabase, SQLiteStatement } from './types.js'

/** The sessions table's statements, prepared. */
export type Statements = { [K in keyof ReturnType<typeof statementsSQL>]: SQLiteStatement }
/** The ended-keys table's statements, prepared. */
export type EndedStatements = {
  [K in keyof ReturnType<typeof endedStatementsSQL>]: SQLiteStatement
}
/** The owner index's statements, prepared. */
export type OwnerStatements = {
  [K in keyof ReturnType<typeof ownersStatementsSQL>]: SQLiteStatement
}

/**
 * The store's database connection and its prepared statements, in three groups (sessions, ended
 * keys, owner index), each prepared together on first use and then reused: a table created after
 * the store still works, and the owner index costs nothing until a manager with an `owner` uses
 * it. When the file is reopened, {@link Connection#replace} takes the new connection and the
 * groups are prepared again on it.
 */
export class Connection {
  #db: SQLiteDatabase
  // Closed by release() (or close()), and not yet replaced.
  #released = false
  readonly #table: string
  readonly #createTable: boolean
  #statements: Statements | undefined
  #ended: EndedStatements | undefined
  #owners: OwnerStatements | undefined

  constructor(db: SQLiteDatabase, table: string, createTable: boolean) {
    this.#db = db
    this.#table = table
    this.#createTable = createTable
  }

  /** The connection the statements run on. */
  get db(): SQLiteDatabase {
    return this.#db
  }

  /** The sessions table's statements. */
  statements(): Statements {
    this.#statements ??= prepare(this.#db, statementsSQL(this.#table))
    return this.#statements
  }

  /** The ended-keys table's statements. */
  ended(): EndedStatements {
    this.#ended ??= prepare(this.#db, endedStatementsSQL(this.#table))
    return this.#ended
  }

  /** The owner index's statements; its table and trigger are made first when `createTable`. */
  owners(): OwnerStatements {
    if (this.#owners !== undefined) return this.#owners
    if (this.#createTable) for (const sql of ownersSchemaSQL(this.#table)) this.#db.exec(sql)
    this.#owners = prepare(this.#db, ownersStatementsSQL(this.#table))
    return this.#owners
  }

  /**
   * Creates what is missing of the schema on `db` (this connection, or one a reopen is about to
   * hand over) when `createTable`; throws a StoreError naming the table otherwise.
   */
  createSchema(db: SQLiteDatabase = this.#db): void {
    if (!this.#createTable) return
    // Checks before creating, so a read-only or busy file with the schema in place still opens.
    const hasObject = statementsSQL(this.#table).hasObject
    const has = (type: string, name: string): boolean =>
      runOnce(db, hasObject, (s) => s.get(type, name) != null)
    try {
      const schema = schemaSQL(this.#table)
      if (!has('table', this.#table)) db.exec(schema.table)
      if (!has('index', indexName(this.#table))) db.exec(schema.index)
    } catch (err) {
      throw toSQLiteStoreError(err, 'create table', this.#table)
    }
    try {
      const ended = endedSchemaSQL(this.#table)
      const endedTable = endedTableName(this.#table)
      if (!has('table', endedTable)) db.exec(ended.table)
      if (!has('index', indexName(endedTable))) db.exec(ended.index)
    } catch (err) {
      // A read-only connection can read sessions but never end one (that write fails anyway,
      // with its own clear error), so it opens without the ended-keys table.
      if (sqliteCode(err)?.startsWith('SQLITE_READONLY')) return
      throw toSQLiteStoreError(err, 'create table', endedTableName(this.#table))
    }
  }

  /**
   * Closes this connection and takes `db` in its place; statements are prepared on it at their
   * next use. Throws what closing the old connection threw, having taken `db` all the same.
   */
  replace(db: SQLiteDatabase): void {
    const old = this.#db
    const groups = [this.#statements, this.#ended, this.#owners]
    const open = !this.#released
    this.#db = db
    this.#statements = undefined
    this.#ended = undefined
    this.#owners = undefined
    this.#released = false
    if (open) close(old, groups)
  }

  /**
   * Closes the connection ahead of a {@link Connection#replace}, while no other connection is
   * open on the path: SQLite deletes a closing database's -wal by its name, which must still be
   * the old file's and not the new connection's. Idempotent; throws what the driver threw.
   */
  release(): void {
    if (this.#released) return
    this.#released = true
    const groups = [this.#statements, this.#ended, this.#owners]
    this.#statements = undefined
    this.#ended = undefined
    this.#owners = undefined
    close(this.#db, groups)
  }

  /** Finalizes the statements and closes the connection; throws what the driver threw. */
  close(): void {
    if (this.#released) return
    this.#released = true
    close(this.#db, [this.#statements, this.#ended, this.#owners])
  }
}

function prepare<K extends string>(
  db: SQLiteDatabase,
  sql: Record<K, string>,
): Record<K, SQLiteStatement> {
  const prepared = {} as Record<K, SQLiteStatement>
  for (const name of Object.keys(sql) as K[]) prepared[name] = db.prepare(sql[name])
  return prepared
}

// bun:sqlite closes with sqlite3_close_v2, which keeps the file (and its WAL) open until every
// statement is finalized; the other drivers finalize them in close() themselves.
function close(db: SQLiteDatabase, groups: (object | undefined)[]): void {
  for (const group of groups) {
    for (const statement of Object.values(group ?? {}) as SQLiteStatement[]) statement.finalize?.()
  }
  db.close()
}
