import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, LaunchOptions, Page } from 'playwright-core'
import { createDemoServer } from '../../demo/app.ts'
import { connect, DEFAULT_DRIVER } from '../helpers/sqlite-drivers.ts'

/** How long one browser action may take; a broken server fails a test in seconds, not minutes. */
export const ACTION_TIMEOUT = 5_000

/** Debian's Chromium (`apt-get install chromium`); the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium'

/** True when Debian's Chromium is installed. */
export const hasChromium = existsSync(CHROMIUM)

/** Headless Chromium without sandbox, GPU or background traffic, so it runs as root in CI and starts fast. */
export const LAUNCH: LaunchOptions = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-quic',
    '--disable-sync',
  ],
}

/** A demo server on a random port with its SQLite file in a fresh temp dir. */
export interface RunningDemo {
  base: string
  dbPath: string
  /** A fresh temp dir for browser profiles, removed with the demo. */
  dir: string
  close(): Promise<void>
}

/** Starts the demo in-process on 127.0.0.1, port 0, on a new SQLite file. */
export async function startDemo(): Promise<RunningDemo> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-browser-'))
  const dbPath = join(dir, 'sessions.db')
  const demo = createDemoServer({ dbPath })
  await new Promise<void>((resolve) => demo.server.listen(0, '127.0.0.1', resolve))
  const { port } = demo.server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    dbPath,
    dir,
    async close() {
      try {
        demo.server.closeAllConnections()
        await demo.close()
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/** The browser's `session` cookie for the demo, or undefined. */
export async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === 'session')
}

/** How many session rows the demo's file holds. */
export function countRows(dbPath: string): number {
  const db = connect(DEFAULT_DRIVER, dbPath, { readonly: true })
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM sessions').get() as { n: number }).n
  } finally {
    db.close()
  }
}

/** Whether the SQLite file holds a row for `token`, read through a separate connection. */
export function rowExists(dbPath: string, token: string): boolean {
  const db = connect(DEFAULT_DRIVER, dbPath, { readonly: true })
  try {
    return db.prepare('SELECT 1 FROM sessions WHERE token = ?').get(token) != null
  } finally {
    db.close()
  }
}

/** The store expiry of `token`'s row in ms since the epoch (the file keeps a Julian day), or NaN. */
export function rowExpiry(dbPath: string, token: string): number {
  const db = connect(DEFAULT_DRIVER, dbPath, { readonly: true })
  try {
    const row = db
      .prepare(
        "SELECT (expiry - julianday('1970-01-01')) * 86400000 AS ms FROM sessions WHERE token = ?",
      )
      .get(token) as { ms: number } | undefined
    return row?.ms ?? Number.NaN
  } finally {
    db.close()
  }
}

/** Clicks `button` and waits until the page it leads to (after any redirect) has loaded. */
export async function submit(page: Page, button: string): Promise<void> {
  // The form posts redirect back to the same URL, so waitForURL would resolve at once.
  const navigated = page.waitForEvent('framenavigated', (f) => f === page.mainFrame())
  await page.getByRole('button', { name: button, exact: true }).click()
  await navigated
  await page.waitForLoadState('load')
}

/** Signs in through the page's form, ticking "remember me" when asked. */
export async function signIn(page: Page, base: string, name: string, remember = false) {
  if (page.url() !== `${base}/`) await page.goto(`${base}/`)
  await page.getByLabel('Name').fill(name)
  if (remember) await page.getByLabel('Remember me').check()
  await submit(page, 'Sign in')
}
