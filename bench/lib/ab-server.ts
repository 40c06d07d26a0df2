// The seed app of bench/servers/sessionkit-sqlite-node.ts (node:http, loadAndSave,
// openSQLiteStore on the WAL file BENCH_DB) served from the built package at BENCH_BUILD, for
// `npm run bench:ab`; only the package differs between the two builds' servers.
import http from 'node:http'
import { abManager, importBuild } from './ab-package.ts'
import { failToStart, serve } from './serve.ts'
import { BARE_BODY, MESSAGE } from './settings.ts'

const root = process.env.BENCH_BUILD
const db = process.env.BENCH_DB
if (root === undefined || db === undefined) failToStart(new Error('BENCH_BUILD or BENCH_DB unset'))
const api = await importBuild(root).catch(failToStart)
const store = (() => {
  try {
    return api.openSQLiteStore(db)
  } catch (err) {
    return failToStart(err)
  }
})()
const sessions = abManager(api, store)
const app = api.loadAndSave(sessions, (req, res) => {
  if (req.url === '/bare') {
    res.end(BARE_BODY)
    return
  }
  const session = sessions.from(req)
  if (req.url === '/put') {
    session.put('message', MESSAGE)
    res.end()
    return
  }
  if (req.url === '/get') {
    res.end(session.getString('message'))
    return
  }
  res.statusCode = 404
  res.end('not found\n')
})
serve(http.createServer(app), { close: () => store.close() })
