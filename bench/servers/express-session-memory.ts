// express-session with its own MemoryStore on Express 5.
import http from 'node:http'
import { expressSessionApp, loadExpressSession } from '../lib/express-session-app.ts'
import { failToStart, serve } from '../lib/serve.ts'

let store: { length: (cb: (err: unknown, n: number) => void) => void }
try {
  store = new (loadExpressSession().MemoryStore)() as typeof store
} catch (err) {
  failToStart(err)
}
serve(http.createServer(expressSessionApp(store)), {
  countSessions: () => new Promise<number>((resolve) => store.length((_err, n) => resolve(n))),
})
