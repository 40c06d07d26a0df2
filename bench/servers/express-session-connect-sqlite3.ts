// express-session + connect-sqlite3 (node-sqlite3, asynchronous) on Express 5, as it ships.
import http from 'node:http'
import { basename, dirname } from 'node:path'
import { expressSessionApp, loadExpressSession, requirePeer } from '../lib/express-session-app.ts'
import { failToStart, serve } from '../lib/serve.ts'

type StoreFactory = (session: unknown) => new (options: { db: string; dir: string }) => object

let store: object
try {
  const path = process.env.BENCH_DB
  if (path === undefined) throw new Error('BENCH_DB is not set')
  const SQLiteStore = requirePeer<StoreFactory>('connect-sqlite3')(loadExpressSession())
  store = new SQLiteStore({ db: basename(path), dir: dirname(path) })
} catch (err) {
  failToStart(err)
}
serve(http.createServer(expressSessionApp(store)))
