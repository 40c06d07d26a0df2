import { escapeHtml } from './html.ts'
import { STYLES } from './styles.ts'

/** What the home page shows; every string is raw user data and is escaped here. */
export interface PageView {
  /** The signed-in name, or '' when signed out. */
  user: string
  /** Page views in this session, this one included. */
  visits: number
  /** A one-time message, or ''. */
  flash: string
  /** The session was signed in with "remember me", so its cookie outlives the browser. */
  remembered: boolean
  /** When the session ends on the server. */
  deadline: Date
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

/** The demo's home page as a complete HTML document. */
export function renderPage(view: PageView): string {
  const flash =
    view.flash === ''
      ? ''
      : `<section class="card flash" role="status" id="flash">${escapeHtml(view.flash)}</section>\n`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sessionkit demo</title>
<style>${STYLES}</style>
</head>
<body>
<main>
<h1><span>sessionkit</span> demo</h1>
<p class="lead">Server-side sessions in a SQLite file; the browser only holds an HttpOnly cookie.</p>
${flash}${view.user === '' ? signInCard() : signedInCard(view)}
<section class="card">
  <h2>Visits</h2>
  <p class="stat" id="visits">${view.visits}</p>
  <p class="muted">${view.visits === 1 ? 'page view' : 'page views'} in this session, this one included</p>
</section>
<footer>
  The seed example: <a href="/put">/put</a> stores a message, <a href="/get">/get</a> reads it back.
</footer>
</main>
</body>
</html>
`
}
