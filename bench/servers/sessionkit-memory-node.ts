// sessionkit + MemoryStore on node:http.
import http from 'node:http'
import { MemoryStore } from '../../src/index.ts'
import { serve } from '../lib/serve.ts'
import { benchManager, nodeApp } from '../lib/sessionkit-app.ts'

const store = new MemoryStore()
serve(http.createServer(nodeApp(benchManager(store))), {
  countSessions: () => store.size,
  close: () => store.close(),
})
