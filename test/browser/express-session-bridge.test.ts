import { createRequire } from 'node:module'
import { join } from 'node:path'
import session from 'express-session'
import type { Browser } from 'playwright-core'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSQLiteStore } from '../../src/stores/sqlite/index.ts'
import { connectSqlite3Missing } from '../helpers/connect-sqlite3.ts'
import { listen, newApp, type OldStore, oldApp } from '../helpers/express-session-apps.ts'
import { tempDir } from '../helpers/sqlite-temp.ts'
import { CHROMIUM, hasChromium, LAUNCH } from './helpers.ts'

const require = createRequire(import.meta.url)
const MISSING = `${CHROMIUM} is missing: apt-get install chromium`
if (!hasChromium && process.env.CI === 'true') {
  it('finds Debian Chromium in CI', () => {
    expect.fail(MISSING)
  })
}

const cs3Missing = connectSqlite3Missing()

// The switch as an operator makes it: the express-session app stops, the sessionkit app with the
// bridge starts on the same port, and a browser that signed in before keeps its user.
describe.skipIf(!hasChromium || cs3Missing !== undefined)(
  !hasChromium
    ? `switching from express-session in Chromium (skipped: ${MISSING})`
    : cs3Missing !== undefined
      ? `switching from express-session (connect-sqlite3) in Chromium (skipped: ${cs3Missing})`
      : 'switching from express-session (connect-sqlite3) in Chromium',
  () => {
    let browser: Browser
    const tmp = tempDir('sessionkit-bridge-browser-')
    beforeAll(async () => {
      browser = await chromium.launch(LAUNCH)
    })
    afterAll(async () => {
      await browser.close()
      tmp.remove()
    })

    it('signs in on express-session, and after the switch the same browser is still signed in', async () => {
      const SQLiteStore = require('connect-sqlite3')(session) as new (options: {
        db: string
        dir: string
      }) => OldStore & { db: { close(cb: () => void): void } }
      const oldStore = new SQLiteStore({ db: 'old-sessions.db', dir: tmp.dir })
      const context = await browser.newContext()
      const page = await context.newPage()
      const before = await listen(oldApp(oldStore))
      await page.goto(`${before.url}/login`)
      expect(await page.textContent('body')).toBe('ok')
      const oldCookie = (await context.cookies()).find((c) => c.name === 'connect.sid')
      expect(oldCookie?.httpOnly).toBe(true)
      await before.close()

      // The new app, on the new store, on the same address.
      const store = openSQLiteStore(join(tmp.dir, 'sessions.db'), { cleanupInterval: 0 })
      const after = await listen(newApp(oldStore, undefined, store).app, before.port)
      try {
        await page.goto(`${after.url}/me`)
        expect(JSON.parse((await page.textContent('body')) ?? '')).toEqual({
          userId: 42,
          cart: ['tea', 'milk'],
        })
        const cookies = await context.cookies()
        expect(cookies.find((c) => c.name === 'connect.sid')).toBeUndefined()
        const sk = cookies.find((c) => c.name === 'session')
        expect(sk?.value).toMatch(/^[\w-]{43}$/)
        expect(sk?.httpOnly).toBe(true)
        // A reload rides on the sessionkit cookie alone.
        await page.reload()
        expect(JSON.parse((await page.textContent('body')) ?? '')).toMatchObject({ userId: 42 })
        // The old session is gone from the old store, so the old cookie can sign no one in again.
        const sid = decodeURIComponent(oldCookie?.value ?? '')
          .replace(/^s:/, '')
          .replace(/\.[^.]*$/, '')
        const left = await new Promise((resolve, reject) =>
          oldStore.get(sid, (err, s) => (err ? reject(err) : resolve(s ?? undefined))),
        )
        expect(left).toBeUndefined()
      } finally {
        await context.close()
        await after.close()
        store.close()
        await new Promise<void>((resolve) => oldStore.db.close(() => resolve()))
      }
    })
  },
)
