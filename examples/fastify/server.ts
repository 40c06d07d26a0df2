// The seed's example on Fastify 5: /put stores a message in the session, /get reads it back.
// Run: npx tsx examples/fastify/server.ts   after `npm run build` (the imports are the package's own names: copy it into an app as it is)
import Fastify from 'fastify'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/fastify'

const sessions = new SessionManager<{ message: string }>()
const app = Fastify()
await app.register(loadAndSave(sessions))

app.get('/put', async (request) => {
  sessions.from(request).put('message', 'Hello from a session!')
  return ''
})

app.get('/get', async (request) => sessions.from(request).getString('message'))

const port = Number(process.env.PORT ?? 4000)
await app.listen({ port, host: '127.0.0.1' })
console.log(`Fastify example on http://127.0.0.1:${port}  (try /put, then /get)`)
