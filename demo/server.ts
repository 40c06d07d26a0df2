// `npm start`: the demo on http://127.0.0.1:4000. SESSIONS_DB picks the SQLite file (default
// sessions.db in the working directory) and PORT the port.
import type { AddressInfo } from 'node:net'
import { createDemoServer } from './app.ts'

const dbPath = process.env.SESSIONS_DB ?? 'sessions.db'
const port = Number(process.env.PORT ?? 4000)
const demo = createDemoServer({ dbPath })

demo.server.listen(port, '127.0.0.1', () => {
  const { port: actual } = demo.server.address() as AddressInfo
  console.log(`sessionkit demo on http://127.0.0.1:${actual}  (sessions in ${dbPath})`)
})

function shutdown(signal: NodeJS.Signals): void {
  console.log(`${signal}: shutting down`)
  // close() waits up to its grace period for running requests; a second signal does not wait.
  process.once(signal, () => process.exit(1))
  demo.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
