// express-session + better-sqlite3-session-store on Express 5. As it ships the database keeps
// SQLite's default rollback journal; BENCH_WAL=1 switches it to WAL with the same pragmas
// sessionkit's SQLiteStore uses, so the comparison can be made both ways.
import http from 'node:http'
import type Database from 'better-sqlite3'
import { expressSessionApp, loadExpressSession, requirePeer } from '../lib/express-session-app.ts'
import { failToStart, serve } from '../lib/serve.ts'

type StoreFactory = (session: {
  Store: unknown
}) => new (options: {
  client: Database.Database
}) => object

let store: object
let db: Database.Database
try {
  const path = process.env.BENCH_DB
  if (path === undefined) throw new Error('BENCH_DB is not set')
  const SQLite = requirePeer<typeof Database>('better-sqlite3')
  db = new SQLite(path)
  if (process.env.BENCH_WAL === '1') {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
  }
  const SqliteStore = requirePeer<StoreFactory>('better-sqlite3-session-store')(
    loadExpressSession(),
  )
  store = new SqliteStore({ client: db })
} catch (err) {
  failToStart(err)
}
serve(http.createServer(expressSessionApp(store)), { close: () => db.close() })
