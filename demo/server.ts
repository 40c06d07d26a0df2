// The seed's example: /put stores a message in the session, /get reads it back.
// Served from the in-memory store until the SQLite store lands.
import http from 'node:http'
import { loadAndSave } from '../src/adapters/node.ts'
import { SessionManager } from '../src/index.ts'

const sessions = new SessionManager<{ message: string }>()

const server = http.createServer(
  loadAndSave(sessions, (req, res) => {
    const session = sessions.from(req)
    switch (req.url) {
      case '/put':
        session.put('message', 'Hello from a session!')
        res.end()
        return
      case '/get':
        res.end(session.getString('message'))
        return
      default:
        res.statusCode = 404
        res.end('Not Found\n')
    }
  }),
)

const port = Number(process.env.PORT ?? 4000)
server.listen(port, '127.0.0.1', () => {
  console.log(`sessionkit demo on http://127.0.0.1:${port}  (try /put, then /get)`)
})
