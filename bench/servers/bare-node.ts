// Bare node:http: the ceiling. It answers /put and /get like the session servers, with no session.
import http from 'node:http'
import { serve } from '../lib/serve.ts'
import { BARE_BODY, MESSAGE } from '../lib/settings.ts'

const server = http.createServer((req, res) => {
  if (req.url === '/bare') res.end(BARE_BODY)
  else if (req.url === '/put') res.end()
  else if (req.url === '/get') res.end(MESSAGE)
  else {
    res.statusCode = 404
    res.end('not found\n')
  }
})
serve(server)
