import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_FORM_BYTES } from '../../demo/form.ts'
import type { RunningDemo } from './helpers.ts'
import { countRows, startDemo } from './helpers.ts'

// The demo's HTTP edges, without a browser: what a form post or a stray request gets.
describe('demo app over HTTP', () => {
  let demo: RunningDemo
  beforeAll(async () => {
    demo = await startDemo()
  })
  afterAll(async () => {
    await demo?.close()
  })

  const post = (path: string, body: string, cookie = '') =>
    fetch(`${demo.base}${path}`, {
      method: 'POST',
      body,
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    })
  const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0] ?? ''

  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    expect((await fetch(`${demo.base}/nope`)).status).toBe(404)
    const getSignIn = await fetch(`${demo.base}/sign-in`)
    expect(getSignIn.status).toBe(405)
    expect(getSignIn.headers.get('allow')).toBe('POST')
    const postHome = await post('/', '')
    expect(postHome.status).toBe(405)
    expect(postHome.headers.get('allow')).toBe('GET, HEAD')
  })

  it("gives clients that do not ask for HTML the seed's bytes: an empty /put, the bare message from /get", async () => {
    const put = await fetch(`${demo.base}/put`, { headers: { accept: '*/*' } })
    expect(put.status).toBe(200)
    expect(await put.text()).toBe('')
    expect(put.headers.get('vary')).toBe('Accept, Cookie')
    const get = await fetch(`${demo.base}/get`, { headers: { cookie: cookieOf(put) } })
    expect(await get.text()).toBe('Hello from a session!')
    expect(get.headers.get('content-type')).toBeNull()
  })

  it('gives a browser at /put and /get (Accept: text/html) a page with the outcome and a link back', async () => {
    const accept = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
    const put = await fetch(`${demo.base}/put`, { headers: { accept } })
    expect(put.status).toBe(200)
    expect(put.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(put.headers.get('content-security-policy')).toContain("default-src 'none'")
    const html = await put.text()
    expect(html).toContain('Stored <q>Hello from a session!</q> in your session.')
    expect(html).toContain('<a href="/" id="back">Back to the demo</a>')
    const get = await fetch(`${demo.base}/get`, { headers: { accept, cookie: cookieOf(put) } })
    const got = await get.text()
    expect(got).toContain('Your session’s message: <q>Hello from a session!</q>')
    expect(got).toContain('<a href="/" id="back">')
    const empty = await fetch(`${demo.base}/get`, { headers: { accept } })
    expect(await empty.text()).toContain('Your session holds no message yet')
    expect(empty.headers.get('set-cookie')).toBeNull()
  })

  it('serves its icon at /favicon.svg, which every page links, and at /favicon.ico', async () => {
    const page = await (await fetch(`${demo.base}/`)).text()
    expect(page).toContain('<link rel="icon" href="/favicon.svg" type="image/svg+xml">')
    for (const path of ['/favicon.svg', '/favicon.ico']) {
      const icon = await fetch(`${demo.base}${path}`)
      expect(icon.status).toBe(200)
      expect(icon.headers.get('content-type')).toBe('image/svg+xml')
      expect(icon.headers.get('set-cookie')).toBeNull()
      expect(await icon.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
    }
    // The page's CSP must let the icon load: default-src 'none' alone blocks it in Firefox.
    const res = await fetch(`${demo.base}/`)
    expect(res.headers.get('content-security-policy')).toContain("img-src 'self'")
  })

  it('explains "last seen" beside the list of sessions', async () => {
    const signedIn = await post('/sign-in', 'name=Ada')
    const page = await fetch(`${demo.base}/`, { headers: { cookie: cookieOf(signedIn) } })
    expect(await page.text()).toMatch(
      /<p class="muted note" id="last-seen-note">“Last seen” is that browser’s latest request, recorded at most once a minute per session/,
    )
  })

  it('serves the seed routes by path, whatever the query string', async () => {
    const put = await fetch(`${demo.base}/put?x=1`)
    expect(put.status).toBe(200)
    const get = await fetch(`${demo.base}/get?y=2`, { headers: { cookie: cookieOf(put) } })
    expect(await get.text()).toBe('Hello from a session!')
  })

  it('gives an anonymous page view no cookie and writes no row, however many views', async () => {
    const rows = () => countRows(demo.dbPath)
    const before = rows()
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${demo.base}/`)
      expect(res.status).toBe(200)
      expect(res.headers.get('set-cookie')).toBeNull()
    }
    expect(rows()).toBe(before)
  })

  it('sends the page with a CSP that allows no script', async () => {
    const res = await fetch(`${demo.base}/`)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(await res.text()).not.toContain('<script')
  })

  it('refuses a form body over the limit with 413 and changes no session', async () => {
    const res = await post('/sign-in', `name=${'a'.repeat(MAX_FORM_BYTES)}`)
    expect(res.status).toBe(413)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('signs in with a 303 to / and a browser-session cookie; remember=1 makes it persistent', async () => {
    const plain = await post('/sign-in', 'name=Ada')
    expect(plain.status).toBe(303)
    expect(plain.headers.get('location')).toBe('/')
    expect(plain.headers.get('set-cookie')).not.toMatch(/Max-Age/)
    const remembered = await post('/sign-in', 'name=Ada&remember=1')
    expect(remembered.headers.get('set-cookie')).toMatch(/; Max-Age=86400; /)
  })

  it('trims the name to 64 characters and refuses a blank one with a flash', async () => {
    const long = await post('/sign-in', `name=${'x'.repeat(100)}`)
    const page = await fetch(`${demo.base}/`, { headers: { cookie: cookieOf(long) } })
    expect(await page.text()).toContain(`<span id="user">${'x'.repeat(64)}</span>`)
    const blank = await post('/sign-in', 'name=%20%20')
    const again = await fetch(`${demo.base}/`, { headers: { cookie: cookieOf(blank) } })
    const html = await again.text()
    expect(html).toContain('Please enter a name to sign in.')
    expect(html).not.toContain('id="user"')
  })
})
