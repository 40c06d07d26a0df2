// The seed's example on Express 5: /put stores a message in the session, /get reads it back.
// Run: npx tsx examples/express/server.ts   after `npm run build` (the imports are the package's own names: copy it into an app as it is)
import express from 'express'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/express'

const sessions = new SessionManager<{ message: string }>()
const app = express()
app.use(loadAndSave(sessions))

app.get('/put', (req, res) => {
  sessions.from(req).put('message', 'Hello from a session!')
  res.end()
})

app.get('/get', (req, res) => {
  res.send(sessions.from(req).getString('message'))
})

const port = Number(process.env.PORT ?? 4000)
app.listen(port, '127.0.0.1', () => {
  console.log(`Express example on http://127.0.0.1:${port}  (try /put, then /get)`)
})
