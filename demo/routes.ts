import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session, SessionManager } from '../src/index.ts'
import { REMEMBER_ME_KEY } from '../src/index.ts'
import { readForm } from './form.ts'
import { FAVICON_SVG, renderPage, renderSeedPage } from './page.ts'

/** What the demo keeps in a session. */
export type DemoData = { user: string; visits: number; flash: string; message: string }

/** The demo's session manager type. */
export type DemoSessions = SessionManager<DemoData>

const MAX_NAME = 64

// The page allows only its own inline styles and same-origin form posts.
const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
}

function redirectHome(res: ServerResponse): void {
  res.statusCode = 303
  res.setHeader('Location', '/')
  res.end()
}

function send(res: ServerResponse, status: number, text: string, headers = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers })
  res.end(text)
}

async function signIn(sessions: DemoSessions, req: IncomingMessage, res: ServerResponse) {
  const form = await readForm(req)
  if (form === undefined) return send(res, 413, 'Payload Too Large\n')
  const session = sessions.from(req)
  const name = (form.get('name') ?? '').trim().slice(0, MAX_NAME)
  if (name === '') {
    session.put('flash', 'Please enter a name to sign in.')
    return redirectHome(res)
  }
  // A new token at sign-in, so a token planted before it (session fixation) is worth nothing.
  await session.renewToken()
  session.put('user', name)
  session.rememberMe(form.get('remember') !== null)
  session.put('flash', `Welcome, ${name}! You are signed in.`)
  redirectHome(res)
}

async function signOut(sessions: DemoSessions, req: IncomingMessage, res: ServerResponse) {
  // destroy() deletes the row now and makes the response delete the cookie. A flash put after it
  // would start a new session with a new cookie instead, so sign-out has none: the sign-in form
  // coming back is the sign that it worked.
  await sessions.from(req).destroy()
  redirectHome(res)
}

// The remember-me flag is sessionkit's own key, outside the demo's data type.
function isRemembered(session: Session<DemoData>): boolean {
  return (session as unknown as Session).getBoolean(REMEMBER_ME_KEY)
}

async function home(sessions: DemoSessions, req: IncomingMessage, res: ServerResponse) {
  const session = sessions.from(req)
  // Every session change comes before the first byte: after it, changes throw. Only a visitor
  // who has done something (signed in) is counted: an anonymous page view, a crawler's, stores
  // nothing and gets no cookie.
  const user = session.getString('user')
  const visits = user === '' ? 0 : session.getNumber('visits') + 1
  if (user !== '') session.put('visits', visits)
  const flash = session.popString('flash')
  const devices = user === '' ? [] : await sessions.listOwned(user, { current: session })
  const html = renderPage({
    user,
    visits,
    flash,
    remembered: isRemembered(session),
    deadline: session.deadline,
    devices,
  })
  res.writeHead(200, PAGE_HEADERS)
  res.end(html)
}

// Signing out another device ends that session for every process at once; its next request
// gets a fresh session, and one already in flight sets no cookie.
async function revokeDevice(sessions: DemoSessions, req: IncomingMessage, res: ServerResponse) {
  const form = await readForm(req)
  if (form === undefined) return send(res, 413, 'Payload Too Large\n')
  const session = sessions.from(req)
  const user = session.getString('user')
  const id = form.get('id') ?? ''
  if (user !== '' && id !== '') {
    const done = await sessions.revoke(user, id)
    session.put('flash', done ? 'Signed out that device.' : 'That device was already signed out.')
  }
  redirectHome(res)
}

async function revokeOthers(sessions: DemoSessions, req: IncomingMessage, res: ServerResponse) {
  const session = sessions.from(req)
  const user = session.getString('user')
  if (user !== '') {
    const count = await sessions.revokeOwned(user, { except: session })
    session.put('flash', `Signed out ${count} other ${count === 1 ? 'session' : 'sessions'}.`)
  }
  redirectHome(res)
}

// A browser following the page's footer links asks for HTML; curl and scripts do not.
const HTML = /\btext\/html\b/

/**
 * The seed's example, byte for byte: `/put` stores a message and answers 200 with an empty body,
 * `/get` writes it back. A request that asks for HTML (a browser, from the page's footer) gets
 * the same outcome as a small page with a link back instead. It expects
 * `loadAndSave(sessions, …)` around it.
 */
export function seedRoutes(sessions: DemoSessions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const session = sessions.from(req)
    const path = pathOf(req) === '/put' ? '/put' : '/get'
    if (path === '/put') session.put('message', 'Hello from a session!')
    // The answer depends on Accept, so caches must keep the two apart.
    res.setHeader('Vary', 'Accept')
    if (HTML.test(req.headers.accept ?? '')) {
      res.writeHead(200, PAGE_HEADERS)
      res.end(renderSeedPage(path, session.getString('message')))
    } else if (path === '/put') res.end()
    else res.end(session.getString('message'))
  }
}

// The icon is the same for everyone and never changes within a run.
function favicon(res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'image/svg+xml',
    'Cache-Control': 'public, max-age=86400',
    'X-Content-Type-Options': 'nosniff',
  })
  res.end(FAVICON_SVG)
}

/** The request's path, without its query string. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0] ?? '/'
}

/** Every route of the demo (`/`, `/sign-in`, `/sign-out`, `/sessions/revoke`, `/sessions/revoke-others`, the icon, and the seed's `/put` and `/get`); it expects `loadAndSave(sessions, …)` around it. */
export function pageRoutes(sessions: DemoSessions) {
  const seed = seedRoutes(sessions)
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req)
    const method = req.method ?? 'GET'
    const get = method === 'GET' || method === 'HEAD'
    switch (path) {
      case '/put':
      case '/get':
        return seed(req, res)
      case '/favicon.svg':
      case '/favicon.ico':
        if (get) return favicon(res)
        return send(res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' })
      case '/':
        if (get) return home(sessions, req, res)
        return send(res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' })
      case '/sign-in':
        if (method === 'POST') return signIn(sessions, req, res)
        return send(res, 405, 'Method Not Allowed\n', { Allow: 'POST' })
      case '/sign-out':
        if (method === 'POST') return signOut(sessions, req, res)
        return send(res, 405, 'Method Not Allowed\n', { Allow: 'POST' })
      case '/sessions/revoke':
        if (method === 'POST') return revokeDevice(sessions, req, res)
        return send(res, 405, 'Method Not Allowed\n', { Allow: 'POST' })
      case '/sessions/revoke-others':
        if (method === 'POST') return revokeOthers(sessions, req, res)
        return send(res, 405, 'Method Not Allowed\n', { Allow: 'POST' })
      default:
        send(res, 404, 'Not Found\n')
    }
  }
}
