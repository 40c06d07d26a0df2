// The seed's example on Koa 3: /put stores a message in the session, /get reads it back.
// Run: npx tsx examples/koa/server.ts   after `npm run build` (the imports are the package's own names: copy it into an app as it is)
import Koa from 'koa'
import { SessionManager } from 'sessionkit'
import { loadAndSave } from 'sessionkit/koa'

const sessions = new SessionManager<{ message: string }>()
const app = new Koa()
app.use(loadAndSave(sessions))

app.use((ctx) => {
  const session = sessions.from(ctx)
  if (ctx.path === '/put') {
    session.put('message', 'Hello from a session!')
    ctx.body = ''
  } else if (ctx.path === '/get') {
    ctx.body = session.getString('message')
  }
})

const port = Number(process.env.PORT ?? 4000)
app.listen(port, '127.0.0.1', () => {
  console.log(`Koa example on http://127.0.0.1:${port}  (try /put, then /get)`)
})
