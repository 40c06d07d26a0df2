// The seed's example on Hono 4, served on Node by @hono/node-server: /put stores a message in
// the session, /get reads it back.
// Run: npx tsx examples/hono/server.ts   after `npm run build` (the imports are the package's own names: copy it into an app as it is)
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/hono'

const sessions = new SessionManager<{ message: string }>()
const app = new Hono()
app.use(loadAndSave(sessions))

app.get('/put', (c) => {
  sessions.from(c).put('message', 'Hello from a session!')
  return c.body(null)
})

app.get('/get', (c) => c.text(sessions.from(c).getString('message')))

const port = Number(process.env.PORT ?? 4000)
serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => {
  console.log(`Hono example on http://127.0.0.1:${port}  (try /put, then /get)`)
})
