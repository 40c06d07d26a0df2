import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningDemo } from './helpers.ts'
import {
  ACTION_TIMEOUT,
  CHROMIUM,
  hasChromium,
  LAUNCH,
  rowExists,
  rowExpiry,
  sessionCookie,
  signIn,
  startDemo,
  submit,
} from './helpers.ts'

const ARTIFACTS = fileURLToPath(new URL('../../test-results/', import.meta.url))
const MISSING = `${CHROMIUM} is missing: apt-get install chromium`

// CI must run these tests; a developer without Chromium gets a named skip instead of a failure.
if (!hasChromium && process.env.CI === 'true') {
  describe('demo in Chromium', () => {
    it('finds Debian Chromium in CI', () => {
      expect.fail(MISSING)
    })
  })
} else if (!hasChromium) {
  console.warn(`Skipping the browser tests: ${MISSING}`)
}

describe.skipIf(!hasChromium)(
  hasChromium ? 'demo in Chromium' : `demo in Chromium (skipped: ${MISSING})`,
  () => {
    let demo: RunningDemo
    let browser: Browser

    beforeAll(async () => {
      ;[demo, browser] = await Promise.all([startDemo(), chromium.launch(LAUNCH)])
    })

    afterAll(async () => {
      await browser?.close()
      await demo?.close()
    })

    async function newPage(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 760, height: 620 } })
      context.setDefaultTimeout(ACTION_TIMEOUT)
      return context.newPage()
    }

    async function token(page: Page): Promise<string> {
      const cookie = await sessionCookie(page.context())
      expect(cookie).toBeDefined()
      return cookie?.value ?? ''
    }

    it("serves the seed's /put and /get as pages with a way back, and the page's icon", async () => {
      const page = await newPage()
      const failed: string[] = []
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`)
      })
      await page.goto(`${demo.base}/`)
      await page.getByRole('link', { name: '/put' }).click()
      await page.waitForURL(`${demo.base}/put`)
      expect(await page.locator('#seed-result').textContent()).toBe(
        'Stored Hello from a session! in your session.',
      )
      await page.getByRole('link', { name: '/get' }).click()
      await page.waitForURL(`${demo.base}/get`)
      expect(await page.locator('#seed-result').textContent()).toBe(
        'Your session’s message: Hello from a session!',
      )
      await page.getByRole('link', { name: 'Back to the demo' }).click()
      await page.waitForURL(`${demo.base}/`)
      expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1)
      // The icon the pages link loads; nothing the browser asked for was an error.
      const icon = await page.locator('link[rel="icon"]').getAttribute('href')
      const fetched = await page.request.get(new URL(icon ?? '', demo.base).href)
      expect(fetched.status()).toBe(200)
      expect(fetched.headers()['content-type']).toBe('image/svg+xml')
      expect(failed).toEqual([])
      const get = await page.goto(`${demo.base}/get?from=test`)
      expect(await get?.text()).toContain('Hello from a session!')
      // One manager for every route: the same browser-session cookie as the page's.
      expect((await sessionCookie(page.context()))?.expires).toBe(-1)
      // The page then shows the same session, not a second one.
      const before = await token(page)
      await page.goto(`${demo.base}/`)
      expect(await token(page)).toBe(before)
    })

    it('stores nothing and sets no cookie for an anonymous page view', async () => {
      const page = await newPage()
      const response = await page.goto(`${demo.base}/`)
      expect(await response?.headerValue('set-cookie')).toBeNull()
      expect(await sessionCookie(page.context())).toBeUndefined()
      expect(await page.locator('#visits-anonymous').count()).toBe(1)
      await page.reload()
      expect(await sessionCookie(page.context())).toBeUndefined()
    })

    it('sets an HttpOnly, SameSite=Lax, Path=/ browser-session cookie that scripts cannot read', async () => {
      const page = await newPage()
      const response = await page.goto(`${demo.base}/put`)
      expect(await response?.headerValue('set-cookie')).toMatch(
        /^session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
      )
      const cookie = await sessionCookie(page.context())
      expect(cookie).toMatchObject({ path: '/', httpOnly: true, sameSite: 'Lax', expires: -1 })
      expect(await page.evaluate(() => document.cookie)).not.toContain('session=')
      expect(rowExists(demo.dbPath, cookie?.value ?? '')).toBe(true)
    })

    it('renews the token on sign-in and keeps the user signed in across a reload', async () => {
      const page = await newPage()
      await page.goto(`${demo.base}/put`)
      await page.goto(`${demo.base}/`)
      const before = await token(page)
      await signIn(page, demo.base, 'Ada')
      const after = await token(page)
      expect(after).not.toBe(before)
      expect(rowExists(demo.dbPath, before)).toBe(false)
      expect(rowExists(demo.dbPath, after)).toBe(true)
      await page.reload()
      await expect(page.locator('#user').textContent()).resolves.toBe('Ada')
      expect(await token(page)).toBe(after)
    })

    it('counts visits per session once signed in, one per page view', async () => {
      const page = await newPage()
      await signIn(page, demo.base, 'Visitor')
      expect(await page.locator('#visits').textContent()).toBe('1')
      await page.reload()
      await page.reload()
      expect(await page.locator('#visits').textContent()).toBe('3')
    })

    it('shows the sign-in flash message once', async () => {
      const page = await newPage()
      await signIn(page, demo.base, 'Ada')
      expect(await page.locator('#flash').textContent()).toBe('Welcome, Ada! You are signed in.')
      await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true })
      await page.reload()
      expect(await page.locator('#flash').count()).toBe(0)
      expect(await page.locator('#user').textContent()).toBe('Ada')
    })

    it('escapes the user name in the page', async () => {
      const page = await newPage()
      const name = '<img src=x onerror=alert(1)>&"\''
      await signIn(page, demo.base, name)
      expect(await page.locator('#user').textContent()).toBe(name)
      expect(await page.locator('#user img').count()).toBe(0)
    })

    it('signs out: the response deletes the cookie and the row is gone from the SQLite file', async () => {
      const page = await newPage()
      await signIn(page, demo.base, 'Ada', true)
      await page.screenshot({ path: join(ARTIFACTS, 'demo-remembered.png'), fullPage: true })
      const signedIn = await token(page)
      expect(rowExists(demo.dbPath, signedIn)).toBe(true)
      const signOut = page.waitForResponse((r) => r.url() === `${demo.base}/sign-out`)
      await submit(page, 'Sign out')
      const response = await signOut
      expect(response.status()).toBe(303)
      expect(await response.headerValue('set-cookie')).toBe(
        'session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0; HttpOnly; SameSite=Lax',
      )
      // The browser dropped the cookie before following the redirect: it sent none.
      const followed = response.request().redirectedTo()
      expect(followed).not.toBeNull()
      expect(await followed?.headerValue('cookie')).toBeNull()
      expect(rowExists(demo.dbPath, signedIn)).toBe(false)
      expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1)
      await page.screenshot({ path: join(ARTIFACTS, 'demo-signed-out.png'), fullPage: true })
      // The page view after the redirect is anonymous: it stores nothing, so no cookie at all.
      expect(await sessionCookie(page.context())).toBeUndefined()
    })

    it('lists a user’s devices and signs one out from the other: A is signed out on reload, B stays', async () => {
      const name = `ada-${Date.now()}`
      const a = await newPage()
      const b = await newPage()
      await signIn(a, demo.base, name)
      await signIn(b, demo.base, name)
      const devices = b.locator('#sessions li.device')
      await expect.poll(() => devices.count()).toBe(2)
      expect(await b.locator('#last-seen-note').isVisible()).toBe(true)
      expect(await b.locator('#last-seen-note').textContent()).toContain('at most once a minute')
      expect(await b.locator('#sessions li.device[data-current="true"]').count()).toBe(1)
      expect(await b.locator('#sessions .browser').first().textContent()).toMatch(/Chrome/)
      const tokenA = await token(a)
      await submit(b, 'Sign out device')
      expect(await b.locator('#flash').textContent()).toContain('Signed out that device.')
      expect(await b.locator('#user').textContent()).toBe(name)
      expect(await devices.count()).toBe(1)
      expect(rowExists(demo.dbPath, tokenA)).toBe(false)
      await a.reload()
      expect(await a.getByLabel('Name').count()).toBe(1)
      expect(await a.locator('#user').count()).toBe(0)
      await b.reload()
      expect(await b.locator('#user').textContent()).toBe(name)
      await signIn(a, demo.base, name)
      await b.reload()
      await expect.poll(() => devices.count()).toBe(2)
      await submit(b, 'Sign out everywhere else')
      expect(await b.locator('#flash').textContent()).toContain('Signed out 1 other session.')
      await a.reload()
      expect(await a.locator('#user').count()).toBe(0)
    })

    it('keeps separate sessions in two browser contexts', async () => {
      const [ada, bob] = await Promise.all([newPage(), newPage()])
      await signIn(ada, demo.base, 'Ada')
      await signIn(bob, demo.base, 'Bob')
      await ada.reload()
      await ada.reload()
      expect(await ada.locator('#user').textContent()).toBe('Ada')
      expect(await bob.locator('#user').textContent()).toBe('Bob')
      expect(await ada.locator('#visits').textContent()).toBe('3')
      expect(await bob.locator('#visits').textContent()).toBe('1')
      expect(await token(ada)).not.toBe(await token(bob))
    })

    // Chromium writes a browser-session cookie (no Expires) to its profile only when it will
    // restore the previous session ("Continue where you left off"); a fresh profile has that off.
    describe('across a browser restart (same profile directory)', () => {
      async function signInThenRestart(remember: boolean, restoreSession = false) {
        const profile = mkdtempSync(join(demo.dir, 'profile-'))
        if (restoreSession) {
          mkdirSync(join(profile, 'Default'))
          // Chromium's own preference for "Continue where you left off".
          const prefs = { session: { restore_on_startup: 1 } }
          writeFileSync(join(profile, 'Default', 'Preferences'), JSON.stringify(prefs))
        }
        const first = await chromium.launchPersistentContext(profile, LAUNCH)
        first.setDefaultTimeout(ACTION_TIMEOUT)
        let cookie: Awaited<ReturnType<typeof sessionCookie>>
        try {
          const page = first.pages()[0] ?? (await first.newPage())
          await signIn(page, demo.base, 'Ada', remember)
          cookie = await sessionCookie(first)
        } finally {
          // close() shuts Chromium down cleanly, so it writes its cookie database.
          await first.close()
        }
        const second = await chromium.launchPersistentContext(profile, LAUNCH)
        second.setDefaultTimeout(ACTION_TIMEOUT)
        try {
          const restored = await sessionCookie(second)
          const again = await second.newPage()
          await again.goto(`${demo.base}/`)
          const user = await again.locator('#user').count()
          return { cookie, restored, user }
        } finally {
          await second.close()
        }
      }

      it('keeps a remembered sign-in: the cookie has Expires and is restored', async () => {
        const { cookie, restored, user } = await signInThenRestart(true)
        expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000 + 23 * 3600)
        expect(restored?.value).toBe(cookie?.value)
        expect(user).toBe(1)
      })

      it('forgets a sign-in without remember me: Chromium drops the browser-session cookie', async () => {
        const { cookie, restored, user } = await signInThenRestart(false)
        expect(cookie?.expires).toBe(-1)
        expect(restored).toBeUndefined()
        expect(user).toBe(0)
        // The server still holds the session until it expires; only the browser forgot its token.
        expect(rowExists(demo.dbPath, cookie?.value ?? '')).toBe(true)
      })

      it('keeps even a browser-session cookie when Chromium restores the last session; the server lifetime still bounds it', async () => {
        const { cookie, restored, user } = await signInThenRestart(false, true)
        expect(cookie?.expires).toBe(-1)
        expect(restored?.value).toBe(cookie?.value)
        expect(user).toBe(1)
        const expiry = rowExpiry(demo.dbPath, cookie?.value ?? '')
        expect(Math.abs(expiry - (Date.now() + 24 * 3600_000))).toBeLessThan(60_000)
      })
    })
  },
)
