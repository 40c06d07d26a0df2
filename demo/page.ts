import type { SessionInfo } from '../src/index.ts'
import { escapeHtml } from './html.ts'
import { STYLES } from './styles.ts'

/** What the home page shows; every string is raw user data and is escaped here. */
export interface PageView {
  /** The signed-in name, or '' when signed out. */
  user: string
  /** Page views since signing in, this one included; 0 when signed out (nothing is counted). */
  visits: number
  /** A one-time message, or ''. */
  flash: string
  /** The session was signed in with "remember me", so its cookie outlives the browser. */
  remembered: boolean
  /** When the session ends on the server. */
  deadline: Date
  /** The signed-in user's sessions (every device), this one marked `current`. */
  devices: SessionInfo[]
}

// A short name for a User-Agent: the browser a person would recognise, else the string itself.
function browserName(userAgent: string | undefined): string {
  if (userAgent === undefined) return 'Unknown browser'
  const found = /(Edg|Firefox|Chrome|Safari|curl)\/[\d.]+/.exec(userAgent)
  const os = /\((Windows|Macintosh|X11; Linux|Linux|iPhone|Android)[^)]*\)/.exec(userAgent)?.[1]
  const name = found?.[1] === 'Edg' ? 'Edge' : found?.[1]
  if (name === undefined) return userAgent.slice(0, 60)
  return os === undefined
    ? name
    : `${name} on ${os.replace('X11; ', '').replace('Macintosh', 'macOS')}`
}

function when(date: Date): string {
  return `<time datetime="${date.toISOString()}">${date.toUTCString()}</time>`
}

function devicesCard(devices: SessionInfo[]): string {
  const items = devices
    .map((d) => {
      const action = d.current
        ? '<strong class="this-device">This device</strong>'
        : `<form method="post" action="/sessions/revoke" class="inline"><input type="hidden" name="id" value="${escapeHtml(d.id)}"><button type="submit" class="secondary">Sign out device</button></form>`
      return `<li class="device" data-current="${d.current === true}">
      <span class="browser">${escapeHtml(browserName(d.userAgent))}</span>
      <span class="muted">signed in ${when(d.createdAt)}, last seen ${when(d.lastSeenAt)}</span>
      ${action}
    </li>`
    })
    .join('\n    ')
  const others = devices.some((d) => !d.current)
    ? `<form method="post" action="/sessions/revoke-others" style="margin-top:1rem">
    <button type="submit" class="secondary">Sign out everywhere else</button>
  </form>`
    : ''
  // The rule is SeenThrottle's in src/owners.ts: at most one write a minute per session.
  return `<section class="card" id="sessions">
  <h2>Your sessions</h2>
  <ul class="devices">
    ${items}
  </ul>
  <p class="muted note" id="last-seen-note">“Last seen” is that browser’s latest request, recorded at most once a minute per session so that page views do not each cost a database write; it can be up to a minute behind.</p>
  ${others}
</section>`
}

function signInCard(): string {
  return `<section class="card">
  <h2>Sign in</h2>
  <form method="post" action="/sign-in">
    <input type="text" name="name" placeholder="Your name" maxlength="64" required autofocus aria-label="Name">
    <label class="check"><input type="checkbox" name="remember" value="1"> Remember me</label>
    <button type="submit">Sign in</button>
  </form>
</section>`
}

function signedInCard(view: PageView): string {
  const cookie = view.remembered
    ? 'persistent: it survives a browser restart'
    : 'browser-session: the browser forgets it when it quits, unless it restores your last session'
  return `<section class="card">
  <h2>Signed in as <span id="user">${escapeHtml(view.user)}</span></h2>
  <dl>
    <dt>Cookie</dt><dd>${cookie}</dd>
    <dt>Session ends</dt><dd><time datetime="${view.deadline.toISOString()}">${view.deadline.toUTCString()}</time></dd>
  </dl>
  <form method="post" action="/sign-out" style="margin-top:1rem">
    <button type="submit" class="secondary">Sign out</button>
  </form>
</section>`
}

/** The demo's icon, served at /favicon.svg (the pages link it) and /favicon.ico (browsers' guess). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2f6fde"/><text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="700" text-anchor="middle" fill="#fff">s</text></svg>
`

function documentOf(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>${STYLES}</style>
</head>
<body>
<main>
<h1><span>sessionkit</span> demo</h1>
${body}
</main>
</body>
</html>
`
}

/**
 * What a browser sees at the seed's `/put` or `/get` (the footer's links): the outcome and a way
 * back. `message` is what the session holds now.
 */
export function renderSeedPage(path: '/put' | '/get', message: string): string {
  const outcome =
    path === '/put'
      ? `Stored <q>${escapeHtml(message)}</q> in your session.`
      : message === ''
        ? 'Your session holds no message yet: <a href="/put">/put</a> stores one.'
        : `Your session’s message: <q>${escapeHtml(message)}</q>`
  const next =
    path === '/put'
      ? '<a href="/get">/get</a> reads it back.'
      : '<a href="/put">/put</a> stores it again.'
  return documentOf(
    `sessionkit demo: ${path}`,
    `<section class="card">
  <h2>The seed example: <code>${path}</code></h2>
  <p id="seed-result">${outcome}</p>
  <p>${next} <a href="/" id="back">Back to the demo</a></p>
  <p class="muted note">Clients that do not ask for HTML, such as curl, get the seed’s own bytes: an empty 200 from /put, the bare message from /get.</p>
</section>`,
  )
}

/** The demo's home page as a complete HTML document. */
export function renderPage(view: PageView): string {
  const flash =
    view.flash === ''
      ? ''
      : `<section class="card flash" role="status" id="flash">${escapeHtml(view.flash)}</section>\n`
  return documentOf(
    'sessionkit demo',
    `<p class="lead">Server-side sessions in a SQLite file; the browser only holds an HttpOnly cookie.</p>
${flash}${view.user === '' ? signInCard() : `${signedInCard(view)}\n${devicesCard(view.devices)}`}
${
  view.user === ''
    ? `<section class="card">
  <h2>Visits</h2>
  <p class="muted" id="visits-anonymous">Sign in to count your page views. Until you do something, this site stores no session for you and sends no cookie.</p>
</section>`
    : `<section class="card">
  <h2>Visits</h2>
  <p class="stat" id="visits">${view.visits}</p>
  <p class="muted">${view.visits === 1 ? 'page view' : 'page views'} since you signed in, this one included</p>
</section>`
}
<footer>
  The seed example: <a href="/put">/put</a> stores a message, <a href="/get">/get</a> reads it back.
</footer>`,
  )
}
