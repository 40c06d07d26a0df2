// The seed's example on node:http: /put stores a message in the session, /get reads it back.
// Run: npx tsx examples/node/server.ts   after `npm run build` (the imports are the package's own names: copy it into an app as it is)
import http from 'node:http'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/node'

const sessions = new SessionManager<{ message: string }>()

const server = http.createServer(
  loadAndSave(sessions, (req, res) => {
    const session = sessions.from(req)
    if (req.url === '/put') {
      session.put('message', 'Hello from a session!')
      res.end()
    } else if (req.url === '/get') {
      res.end(session.getString('message'))
    } else {
      res.statusCode = 404
      res.end('Not Found\n')
    }
  }),
)

const port = Number(process.env.PORT ?? 4000)
server.listen(port, '127.0.0.1', () => {
  console.log(`node:http example on http://127.0.0.1:${port}  (try /put, then /get)`)
})
