// sessionkit + SQLiteStore (WAL file) on Express 5.
import http from 'node:http'
import { serve } from '../lib/serve.ts'
import { benchManager, expressApp } from '../lib/sessionkit-app.ts'
import { openBenchSQLiteStore } from '../lib/sessionkit-sqlite.ts'

const store = await openBenchSQLiteStore()
serve(http.createServer(expressApp(benchManager(store))), { close: () => store.close?.() })
