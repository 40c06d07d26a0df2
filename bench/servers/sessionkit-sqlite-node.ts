// sessionkit + SQLiteStore (WAL file) on node:http.
import http from 'node:http'
import { serve } from '../lib/serve.ts'
import { benchManager, nodeApp } from '../lib/sessionkit-app.ts'
import { openBenchSQLiteStore } from '../lib/sessionkit-sqlite.ts'

const store = await openBenchSQLiteStore()
serve(http.createServer(nodeApp(benchManager(store))), { close: () => store.close?.() })
