import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadAndSave } from '../../src/adapters/node.ts'
import { generateToken, SessionManager } from '../../src/index.ts'
import { serve } from '../helpers/http.ts'
import { RecordingStore } from '../helpers/stores.ts'

function setup() {
  const store = new RecordingStore({ cleanupInterval: 0 })
  return { store, sessions: new SessionManager({ store }) }
}

describe('bad cookies are no session, with no store call', () => {
  it('makes 0 store calls over thousands of random Cookie headers (property)', async () => {
    const { store, sessions } = setup()
    const header = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .array(fc.tuple(fc.constantFrom('session', 'Session', 'other', ' session'), fc.string()), {
          maxLength: 5,
        })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('; ')),
      fc.string({ minLength: 8_000, maxLength: 20_000 }).map((v) => `session=${v}`),
    )
    await fc.assert(
      fc.asyncProperty(header, async (h) => {
        const s = await sessions.loadCookieHeader(h)
        expect(s.token).toBe('')
      }),
      { numRuns: 3000 },
    )
    expect(store.calls).toEqual([])
  })

  it('ignores non-ASCII, oversized, quoted, percent-encoded and near-miss tokens', async () => {
    const { store, sessions } = setup()
    const token = generateToken()
    for (const h of [
      `session=${token.slice(0, 42)}é`,
      `session=${token}${token}`,
      `session="${token}"`,
      `session=${token.slice(0, 42)}%41`,
      `session=${token.slice(0, 42)}=`,
      `session=${token.slice(0, 42)}+`,
      `session=`,
      'session',
      ';;;',
    ]) {
      expect((await sessions.loadCookieHeader(h)).token).toBe('')
    }
    expect(store.calls).toEqual([])
  })

  it('reads the first of duplicated session cookies, as Go and browsers order them', async () => {
    const { store, sessions } = setup()
    const first = generateToken()
    await sessions.loadCookieHeader(`session=${first}; session=${generateToken()}`)
    expect(store.calls).toEqual([
      ['find', first],
      ['ended', first],
    ])
    store.calls.length = 0
    await sessions.loadCookieHeader(`session=garbage; session=${generateToken()}`)
    expect(store.calls).toEqual([])
  })

  it('serves raw garbage Cookie headers over HTTP without a store call or a crash', async () => {
    const { store, sessions } = setup()
    const server = await serve(
      loadAndSave(sessions, (_req, res) => {
        res.end('ok')
      }),
    )
    try {
      for (const cookie of [
        'session=%%%',
        'session=\u00ff\u00fe',
        'a=b; session; =x',
        'x'.repeat(12_000),
      ]) {
        const res = await fetch(server.url, { headers: { cookie } })
        expect(res.status).toBe(200)
        expect(await res.text()).toBe('ok')
      }
      expect(store.calls).toEqual([])
    } finally {
      await server.close()
    }
  })
})
