// The seed's example as a Fetch handler, `(Request) => Response`, served here on Node by
// @hono/node-server; Deno.serve, Bun.serve or a Worker's `fetch` take the same handler.
// Run: npx tsx examples/fetch/server.ts   after `npm run build` (the imports are the package's own names: copy it into an app as it is)
import { serve } from '@hono/node-server'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/fetch'

const sessions = new SessionManager<{ message: string }>()

const handler = loadAndSave(sessions, (request, session) => {
  const { pathname } = new URL(request.url)
  if (pathname === '/put') {
    session.put('message', 'Hello from a session!')
    return new Response('')
  }
  if (pathname === '/get') return new Response(session.getString('message'))
  return new Response('Not Found\n', { status: 404 })
})

const port = Number(process.env.PORT ?? 4000)
serve({ fetch: handler, port, hostname: '127.0.0.1' }, () => {
  console.log(`Fetch example on http://127.0.0.1:${port}  (try /put, then /get)`)
})
