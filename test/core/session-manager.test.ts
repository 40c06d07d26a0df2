import { describe, expect, it, vi } from 'vitest'
import type { SessionError, SessionManagerOptions, Store } from '../../src/index.ts'
import {
  capabilitiesOf,
  generateToken,
  hashToken,
  jsonCodec,
  MemoryStore,
  SessionManager,
} from '../../src/index.ts'
import { enc } from '../helpers/bytes.ts'
import { failingStore, RecordingStore } from '../helpers/stores.ts'

const HOUR = 3600_000

function setup(options: SessionManagerOptions = {}) {
  let now = Date.parse('2024-01-02T15:04:05.000Z')
  const store = new RecordingStore({ cleanupInterval: 0, clock: () => now })
  const sessions = new SessionManager({ store, clock: () => now, ...options })
  return {
    store,
    sessions,
    get now() {
      return now
    },
    advance(ms: number) {
      now += ms
    },
  }
}

async function seed(
  store: Store,
  token: string,
  deadline: number,
  values: Record<string, unknown>,
) {
  await store.commit(
    token,
    jsonCodec.encode(new Date(deadline), new Map(Object.entries(values))),
    new Date(deadline),
  )
}

describe('SessionManager#load (SCS TestSessionManager_Load)', () => {
  it('loads a stored session and keeps its token (happy path)', async () => {
    const t = setup({ idleTimeout: 24 * HOUR })
    const token = generateToken()
    await seed(t.store, token, t.now + HOUR, { things: 'stuff' })
    const s = await t.sessions.load(token)
    expect(s.token).toBe(token)
    expect(s.get('things')).toBe('stuff')
    expect(s.deadline.getTime()).toBe(t.now + HOUR)
  })

  it('marks a loaded session modified when an idle timeout is set, unmodified otherwise', async () => {
    const token = generateToken()
    const idle = setup({ idleTimeout: HOUR })
    await seed(idle.store, token, idle.now + HOUR, {})
    expect((await idle.sessions.load(token)).status).toBe('modified')
    const plain = setup()
    await seed(plain.store, token, plain.now + HOUR, {})
    expect((await plain.sessions.load(token)).status).toBe('unmodified')
  })

  it('gives a fresh session without consulting the store for an empty token', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    expect(s.token).toBe('')
    expect(t.store.calls).toEqual([])
  })

  it('gives a fresh session without a store call for a token that is not 43 base64url chars', async () => {
    const t = setup()
    for (const bad of ['example', 'a'.repeat(42), `${'a'.repeat(42)}!`, 'é'.repeat(43)]) {
      expect((await t.sessions.load(bad)).token).toBe('')
    }
    expect(t.store.calls).toEqual([])
  })

  it('rejects with ERR_STORE and the cause when the store fails', async () => {
    const sessions = new SessionManager({ store: failingStore(['find']) })
    const err: SessionError = await sessions.load(generateToken()).catch((e) => e)
    expect(err.code).toBe('ERR_STORE')
    expect(err.cause).toBeDefined()
  })

  it('gives a fresh session with token "" for an unknown token, after asking whether it ended recently', async () => {
    const t = setup()
    const s = await t.sessions.load(generateToken())
    expect(s.token).toBe('')
    expect(s.refused).toBeUndefined()
    expect(t.store.ops()).toEqual(['find', 'ended'])
  })

  it('rejects with ERR_CODEC for undecodable data, and leaves the row in place', async () => {
    const t = setup()
    const token = generateToken()
    await t.store.commit(token, enc(''), new Date(t.now + HOUR))
    const err: SessionError = await t.sessions.load(token).catch((e) => e)
    expect(err.code).toBe('ERR_CODEC')
    expect(await t.store.find(token)).toBeDefined()
  })

  it("gives a fresh session for undecodable data with undecodable: 'new-session'", async () => {
    const t = setup({ undecodable: 'new-session' })
    const token = generateToken()
    await t.store.commit(token, enc('{garbage'), new Date(t.now + HOUR))
    expect((await t.sessions.load(token)).token).toBe('')
    expect(await t.store.find(token)).toBeDefined()
  })

  it('treats a session whose stored deadline has passed as gone, even if the store returns it', async () => {
    const t = setup()
    const token = generateToken()
    await t.store.commit(
      token,
      jsonCodec.encode(new Date(t.now - 1), new Map()),
      new Date(t.now + HOUR),
    )
    expect((await t.sessions.load(token)).token).toBe('')
  })

  it('finds a hashed key and keeps the raw token (with token hashing)', async () => {
    const t = setup({ hashTokenInStore: true, idleTimeout: 24 * HOUR })
    const s = await t.sessions.load('')
    s.put('foo', 'bar')
    const { token, expiry } = await t.sessions.commit(s)
    expect(expiry.getTime()).toBe(s.deadline.getTime())
    expect(t.store.calls[0]?.[1]).toBe(hashToken(token))
    expect(hashToken(token)).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const loaded = await t.sessions.load(token)
    expect(loaded.token).toBe(token)
    expect(loaded.get('foo')).toBe('bar')
    await loaded.destroy()
    expect(t.store.calls.at(-1)).toEqual(['end', hashToken(token)])
    expect(await t.store.find(hashToken(token))).toBeUndefined()
  })
})

describe('SessionManager#commit (SCS TestSessionManager_Commit)', () => {
  it('returns the token and an expiry equal to the deadline when the idle window is longer', async () => {
    const t = setup({ idleTimeout: 24 * HOUR })
    const s = await t.sessions.load('')
    s.put('blah', 'blah')
    s.setDeadline(new Date(t.now + HOUR))
    const { token, expiry, committed } = await t.sessions.commit(s)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(expiry.getTime()).toBe(t.now + HOUR)
    expect(committed).toBe(true)
  })

  it('keeps an existing token', async () => {
    const t = setup()
    const token = generateToken()
    await seed(t.store, token, t.now + HOUR, { a: 1 })
    const s = await t.sessions.load(token)
    s.put('a', 2)
    expect((await t.sessions.commit(s)).token).toBe(token)
  })

  it('caps the expiry at now + idleTimeout (with expired deadline)', async () => {
    const t = setup({ idleTimeout: 1 })
    const s = await t.sessions.load('')
    s.put('a', 1)
    const { expiry } = await t.sessions.commit(s)
    expect(expiry.getTime()).toBe(t.now + 1)
    expect(s.deadline.getTime()).toBe(t.now + 24 * HOUR)
  })

  it('rejects with ERR_STORE when the store write fails', async () => {
    const sessions = new SessionManager({ store: failingStore(['commit']) })
    const s = await sessions.load('')
    s.put('a', 1)
    const err: SessionError = await sessions.commit(s).catch((e) => e)
    expect(err.code).toBe('ERR_STORE')
  })

  it('rejects with ERR_CODEC naming the key when a value cannot be encoded', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('when', new (class Custom {})())
    const err: SessionError = await t.sessions.commit(s).catch((e) => e)
    expect(err.code).toBe('ERR_CODEC')
    expect(err.message).toContain('"when"')
    expect(err.message).toContain('Custom')
  })

  it("inserts a new session with mode 'insert' and writes a loaded one back with replace (compare-and-set)", async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('a', 1)
    const { token } = await t.sessions.commit(s)
    const loaded = await t.sessions.load(token)
    loaded.put('a', 2)
    await t.sessions.commit(loaded)
    expect(t.store.calls.filter(([op]) => op !== 'find')).toEqual([
      ['commit', token, 'insert'],
      ['replace', token],
    ])
  })

  it("writes a loaded session back with mode 'update' when the store has no replace", async () => {
    const inner = new MemoryStore({ cleanupInterval: 0 })
    const modes: (string | undefined)[] = []
    const store: Store = {
      find: (k) => inner.find(k),
      commit: (k, d, e, m) => {
        modes.push(m)
        return inner.commit(k, d, e, m)
      },
      delete: (k) => inner.delete(k),
    }
    const sessions = new SessionManager<{ a: number }>({ store })
    const s = await sessions.load('')
    s.put('a', 1)
    const { token } = await sessions.commit(s)
    const loaded = await sessions.load(token)
    loaded.put('a', 2)
    expect((await sessions.commit(loaded)).committed).toBe(true)
    expect(modes).toEqual(['insert', 'update'])
  })

  it('drops the write of a session destroyed meanwhile by another request (no resurrection)', async () => {
    const t = setup()
    const first = await t.sessions.load('')
    first.put('user', 'ada')
    const { token } = await t.sessions.commit(first)
    const slow = await t.sessions.load(token)
    const logout = await t.sessions.load(token)
    await logout.destroy()
    slow.put('visits', 2)
    const result = await t.sessions.commit(slow)
    expect(result.committed).toBe(false)
    expect(await t.store.find(token)).toBeUndefined()
    expect(await t.sessions.commitResponse(await t.sessions.load(token))).toBeUndefined()
  })

  it('sends no cookie for a write dropped because the session was renewed meanwhile', async () => {
    const t = setup()
    const first = await t.sessions.load('')
    first.put('user', 'ada')
    const { token } = await t.sessions.commit(first)
    const slow = await t.sessions.load(token)
    const signIn = await t.sessions.load(token)
    await signIn.renewToken()
    await t.sessions.commit(signIn)
    slow.put('visits', 2)
    expect(await t.sessions.commitResponse(slow)).toBeUndefined()
    expect(await t.store.find(token)).toBeUndefined()
  })

  it('only touches the expiry of an unchanged session under an idle timeout', async () => {
    const t = setup({ idleTimeout: 20 * 60_000 })
    const s = await t.sessions.load('')
    s.put('a', 1)
    const { token } = await t.sessions.commit(s)
    t.store.calls.length = 0
    t.advance(60_000)
    const again = await t.sessions.load(token)
    const cookie = await t.sessions.commitResponse(again)
    expect(t.store.ops()).toEqual(['find', 'touch'])
    expect(cookie).toContain(`session=${token};`)
    expect(cookie).toContain('Max-Age=1200')
    t.advance(19 * 60_000)
    expect((await t.sessions.load(token)).token).toBe(token)
  })

  it('does not rewrite a row when a put leaves the encoded data as stored, but still sends the cookie', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('message', 'Hello from a session!')
    const { token } = await t.sessions.commit(s)
    t.store.calls.length = 0
    const again = await t.sessions.load(token)
    again.put('message', 'Hello from a session!')
    expect(again.status).toBe('modified')
    expect(await t.sessions.commitResponse(again)).toContain(`session=${token};`)
    expect(t.store.ops()).toEqual(['find'])
    const changed = await t.sessions.load(token)
    changed.put('message', 'changed')
    await t.sessions.commitResponse(changed)
    expect(t.store.calls.at(-1)).toEqual(['replace', token])
  })

  it('only touches the expiry for an identical put under an idle timeout', async () => {
    const t = setup({ idleTimeout: 60_000 })
    const s = await t.sessions.load('')
    s.put('message', 'same')
    const { token } = await t.sessions.commit(s)
    t.store.calls.length = 0
    const again = await t.sessions.load(token)
    again.put('message', 'same')
    await t.sessions.commitResponse(again)
    expect(t.store.ops()).toEqual(['find', 'touch'])
  })

  it('falls back to a full commit under an idle timeout when the store has no touch', async () => {
    const inner = new MemoryStore({ cleanupInterval: 0 })
    const calls: string[] = []
    const store: Store = {
      find: (k) => inner.find(k),
      commit: (k, d, e, m) => {
        calls.push(`commit:${m}`)
        return inner.commit(k, d, e, m)
      },
      delete: (k) => inner.delete(k),
    }
    const sessions = new SessionManager({ store, idleTimeout: 60_000 })
    const s = await sessions.load('')
    s.put('a', 1)
    const { token } = await sessions.commit(s)
    await sessions.commitResponse(await sessions.load(token))
    expect(calls).toEqual(['commit:insert', 'commit:update'])
  })
})

describe('Session#destroy, #renewToken and #mergeSession', () => {
  it('destroy deletes the row, empties the session and resets token and deadline', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('foo', 'bar')
    const { token } = await t.sessions.commit(s)
    t.advance(1000)
    await s.destroy()
    expect(s.status).toBe('destroyed')
    expect(s.token).toBe('')
    expect(s.keys()).toEqual([])
    expect(s.deadline.getTime()).toBe(t.now + 24 * HOUR)
    expect(await t.store.find(token)).toBeUndefined()
  })

  it('destroy then put commits a brand-new token', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('foo', 'bar')
    const { token } = await t.sessions.commit(s)
    await s.destroy()
    s.put('foo', 'again')
    expect(s.status).toBe('modified')
    const second = await t.sessions.commit(s)
    expect(second.token).not.toBe(token)
    expect(second.committed).toBe(true)
  })

  it('destroy keeps the session when the store fails to delete', async () => {
    const inner = new MemoryStore({ cleanupInterval: 0 })
    const sessions = new SessionManager({ store: failingStore(['delete'], inner) })
    const s = await sessions.load('')
    s.put('foo', 'bar')
    await sessions.commit(s)
    await expect(s.destroy()).rejects.toMatchObject({ code: 'ERR_STORE' })
    expect(s.status).toBe('modified')
    expect(s.get('foo')).toBe('bar')
  })

  it('renewToken deletes the old token now, issues a new one and resets the deadline', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('foo', 'bar')
    const { token: old } = await t.sessions.commit(s)
    t.advance(5000)
    await s.renewToken()
    expect(s.token).not.toBe(old)
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(s.deadline.getTime()).toBe(t.now + 24 * HOUR)
    expect(await t.store.find(old)).toBeUndefined()
    const { token } = await t.sessions.commit(s)
    expect(token).toBe(s.token)
    expect((await t.sessions.load(token)).get('foo')).toBe('bar')
  })

  it('renewToken on an uncommitted session deletes nothing', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    await s.renewToken()
    expect(t.store.ops()).toEqual([])
  })

  it('mergeSession copies the other values (other wins), extends the deadline and deletes the other', async () => {
    const t = setup()
    const other = generateToken()
    await seed(t.store, other, t.now + 48 * HOUR, { cart: 3, shared: 'other' })
    const s = await t.sessions.load('')
    s.put('shared', 'mine')
    s.put('own', true)
    await s.mergeSession(other)
    expect(s.get('cart')).toBe(3)
    expect(s.get('shared')).toBe('other')
    expect(s.get('own')).toBe(true)
    expect(s.deadline.getTime()).toBe(t.now + 48 * HOUR)
    expect(await t.store.find(other)).toBeUndefined()
  })

  it('mergeSession with undecodable stored data rejects with ERR_CODEC and changes nothing', async () => {
    const t = setup({
      codec: {
        encode: jsonCodec.encode,
        decode: () => {
          throw new Error('bad bytes')
        },
      },
    })
    const other = generateToken()
    await t.store.commit(other, enc('x'), new Date(t.now + HOUR))
    const s = await t.sessions.load('')
    await expect(s.mergeSession(other)).rejects.toMatchObject({ code: 'ERR_CODEC' })
    expect(s.status).toBe('unmodified')
    expect(await t.store.find(other)).toBeDefined()
  })

  it('mergeSession with an unknown token or its own token changes nothing', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('a', 1)
    const { token } = await t.sessions.commit(s)
    const loaded = await t.sessions.load(token)
    await loaded.mergeSession(generateToken())
    await loaded.mergeSession(token)
    expect(loaded.status).toBe('unmodified')
    expect(await t.store.find(token)).toBeDefined()
  })
})

describe('SessionManager#iterate (SCS TestIterate)', () => {
  it('visits every live session, and aborts with the first error', async () => {
    const t = setup()
    for (const i of ['0', '1', '2']) {
      const s = await t.sessions.load('')
      s.put('foo', i)
      await t.sessions.commit(s)
    }
    const seen: string[] = []
    await t.sessions.iterate((s) => {
      seen.push(s.getString('foo'))
    })
    expect(seen.sort()).toEqual(['0', '1', '2'])
    await expect(
      t.sessions.iterate(() => {
        throw new Error('expected error')
      }),
    ).rejects.toThrow('expected error')
  })

  it('can destroy and rewrite sessions with hashTokenInStore (fixes SCS bug)', async () => {
    const t = setup({ hashTokenInStore: true })
    const tokens: string[] = []
    for (const name of ['ada', 'bob']) {
      const s = await t.sessions.load('')
      s.put('user', name)
      tokens.push((await t.sessions.commit(s)).token)
    }
    await t.sessions.iterate(async (s) => {
      if (s.get('user') === 'ada') await s.destroy()
      else {
        s.put('user', 'robert')
        await t.sessions.commit(s)
      }
    })
    expect((await t.sessions.load(tokens[0] ?? '')).token).toBe('')
    expect((await t.sessions.load(tokens[1] ?? '')).get('user')).toBe('robert')
    expect((await t.store.all()).size).toBe(1)
  })

  it('rejects with ERR_NOT_ITERABLE for a store without all()', async () => {
    const sessions = new SessionManager({ store: failingStore([]) })
    await expect(sessions.iterate(() => {})).rejects.toMatchObject({ code: 'ERR_NOT_ITERABLE' })
  })
})

describe('SessionManager#from', () => {
  it('throws ERR_NO_SESSION for an object no adapter attached a session to', () => {
    const sessions = new SessionManager()
    expect(() => sessions.from({})).toThrow(expect.objectContaining({ code: 'ERR_NO_SESSION' }))
  })

  it('keeps the sessions of two managers apart on one object', async () => {
    const a = new SessionManager()
    const b = new SessionManager({ cookie: { name: 'other' } })
    const target = {}
    const sa = await a.load('')
    const sb = await b.load('')
    a.attach(target, sa)
    b.attach(target, sb)
    expect(a.from(target)).toBe(sa)
    expect(b.from(target)).toBe(sb)
  })
})

describe('SessionManager: refused sessions and the refused event', () => {
  async function loggedOut(t: ReturnType<typeof setup>) {
    const s = await t.sessions.load('')
    s.put('user', 'ada')
    const { token } = await t.sessions.commit(s)
    const slow = await t.sessions.load(token)
    await (await t.sessions.load(token)).destroy()
    return { token, slow }
  }

  it('reports a dropped change once, even when the handler commits and the adapter commits again', async () => {
    const t = setup()
    const events: string[] = []
    t.sessions.on('refused', ({ reason, session }) => events.push(`${reason}:${session.token}`))
    const { token } = await loggedOut(t)
    const late = await t.sessions.load(token)
    late.put('cart', 1)
    expect((await t.sessions.commit(late)).committed).toBe(false)
    expect(await t.sessions.commitResponse(late)).toBeUndefined()
    expect(events).toEqual(['destroyed:'])
  })

  it('keeps a refused session sealed after its response started', async () => {
    const t = setup()
    const { slow } = await loggedOut(t)
    slow.put('user', 'bob')
    expect(await t.sessions.commitResponse(slow)).toBeUndefined()
    expect(slow.refused).toBe('destroyed')
    expect(() => slow.put('user', 'eve')).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_SENT' }),
    )
  })

  it('never lets a throwing listener break the commit, and stops calling an unsubscribed one', async () => {
    const t = setup()
    const calls: string[] = []
    t.sessions.on('refused', () => {
      throw new Error('listener bug')
    })
    const off = t.sessions.on('refused', () => calls.push('second'))
    const { slow } = await loggedOut(t)
    slow.put('user', 'bob')
    const quiet = console.error
    console.error = () => {}
    try {
      expect((await t.sessions.commit(slow)).committed).toBe(false)
      off()
      const again = await loggedOut(t)
      again.slow.put('user', 'bob')
      expect((await t.sessions.commit(again.slow)).committed).toBe(false)
    } finally {
      console.error = quiet
    }
    expect(calls).toEqual(['second'])
  })

  it('forgets an ended token after endedTokenTtl, on the manager clock', async () => {
    const t = setup({ endedTokenTtl: 30_000 })
    const { token } = await loggedOut(t)
    t.advance(29_999)
    expect((await t.sessions.load(token)).refused).toBe('destroyed')
    t.advance(1)
    expect((await t.sessions.load(token)).refused).toBeUndefined()
  })

  it('rejects an endedTokenTtl that is not a non-negative number of ms, naming it', () => {
    expect(() => new SessionManager({ endedTokenTtl: -1 })).toThrow(/endedTokenTtl/)
    expect(() => new SessionManager({ endedTokenTtl: Number.NaN })).toThrow(/endedTokenTtl/)
  })

  it('stays atomic under a store without replace/end: whole-session writes with update, as SCS', async () => {
    const inner = new MemoryStore({ cleanupInterval: 0 })
    const store: Store = {
      find: (k) => inner.find(k),
      commit: (k, d, e, m) => inner.commit(k, d, e, m),
      delete: (k) => inner.delete(k),
    }
    const sessions = new SessionManager<{ n: number }>({ store })
    const s = await sessions.load('')
    s.put('n', 1)
    const { token } = await sessions.commit(s)
    const slow = await sessions.load(token)
    await (await sessions.load(token)).destroy()
    slow.put('n', 2)
    expect((await sessions.commit(slow)).committed).toBe(false)
    expect(slow.refused).toBe('missing')
    expect(await inner.find(token)).toBeUndefined()
  })
})

describe('SessionManager: inputs at the edges', () => {
  it('treats load(undefined) from a JavaScript caller as no token, with no store call', async () => {
    const t = setup()
    const s = await t.sessions.load(undefined)
    expect(s.token).toBe('')
    expect(t.store.calls).toEqual([])
  })

  it('refuses a deadline past year 9999 at setDeadline, so no cookie says Invalid Date', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    expect(() => s.setDeadline(new Date(8.64e15))).toThrow(/latest deadline.*9999-12-31/)
    expect(s.status).toBe('unmodified')
    s.setDeadline(new Date(Date.UTC(9999, 11, 31, 23, 59, 58, 999)))
    const { token, expiry } = await t.sessions.commit(s)
    expect(t.sessions.sessionCookie(token, expiry)).toContain(
      'Expires=Fri, 31 Dec 9999 23:59:59 GMT',
    )
  })

  it('iterates past an undecodable row: every readable session is visited and the bad one reported', async () => {
    const t = setup()
    const tokens: string[] = []
    for (let i = 0; i < 100; i++) {
      const s = await t.sessions.load('')
      s.put('user', 'ada')
      tokens.push((await t.sessions.commit(s)).token)
    }
    const bad = tokens[50] as string
    await t.store.commit(bad, enc('{written by another program'), new Date(t.now + HOUR))
    let visited = 0
    const result = await t.sessions.iterate(async (s) => {
      visited++
      await s.destroy()
    })
    expect(visited).toBe(99)
    expect(result.visited).toBe(99)
    expect(result.undecodable.map(({ key, error }) => [key, error.code])).toEqual([
      [bad, 'ERR_CODEC'],
    ])
    expect((await t.store.all()).size).toBe(1)
  })
})

describe('SessionManager maxBytes and Session#setIdleTimeout', () => {
  it('refuses a commit over maxBytes with ERR_TOO_LARGE naming the size and the limit, writing nothing', async () => {
    const t = setup({ maxBytes: 100 })
    const s = await t.sessions.load('')
    s.put('blob', 'x'.repeat(200))
    const err = (await t.sessions.commit(s).catch((e) => e)) as SessionError
    expect(err.code).toBe('ERR_TOO_LARGE')
    expect(err.message).toMatch(/is 2\d\d bytes encoded, over the maxBytes limit of 100/)
    expect(t.store.calls).toEqual([])
    s.put('blob', 'small')
    expect((await t.sessions.commit(s)).committed).toBe(true)
  })

  it('limits sessions to 64 KiB by default, and maxBytes: 0 lifts the limit', async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('blob', 'x'.repeat(70_000))
    await expect(t.sessions.commit(s)).rejects.toMatchObject({ code: 'ERR_TOO_LARGE' })
    const off = setup({ maxBytes: 0 })
    const big = await off.sessions.load('')
    big.put('blob', 'x'.repeat(70_000))
    expect((await off.sessions.commit(big)).committed).toBe(true)
  })

  it("gives one session its own sliding idle timeout, stored with it, and 0 returns to the manager's", async () => {
    const t = setup()
    const s = await t.sessions.load('')
    s.put('role', 'admin')
    s.setIdleTimeout(5 * 60_000)
    const { token, expiry } = await t.sessions.commit(s)
    expect(expiry.getTime()).toBe(t.now + 5 * 60_000)
    t.advance(4 * 60_000)
    const again = await t.sessions.load(token)
    // Like a manager-wide idle timeout: every request slides the window.
    expect(again.status).toBe('modified')
    expect((await t.sessions.commit(again)).expiry.getTime()).toBe(t.now + 5 * 60_000)
    t.advance(5 * 60_000 + 1)
    expect((await t.sessions.load(token)).token).toBe('')
    const other = await t.sessions.load('')
    other.setIdleTimeout(60_000)
    other.setIdleTimeout(0)
    expect(other.has('__idleTimeout')).toBe(false)
    expect(() => other.setIdleTimeout(-1)).toThrow(RangeError)
  })
})

describe('SessionManager#on: lifecycle events', () => {
  it('reports created, renewed, destroyed and revoked, each with what an audit log needs', async () => {
    const t = setup({ owner: 'user' })
    const events: string[] = []
    t.sessions.on('created', ({ session }) => events.push(`created:${session.get('user') ?? '-'}`))
    t.sessions.on('renewed', ({ session }) => events.push(`renewed:${session.get('user')}`))
    t.sessions.on('destroyed', ({ session }) => events.push(`destroyed:${session.get('user')}`))
    t.sessions.on('revoked', ({ owner, id }) => events.push(`revoked:${owner}:${id.length}`))
    const s = await t.sessions.load('')
    s.put('visits', 1)
    await t.sessions.commit(s)
    await s.renewToken()
    s.put('user', 'ada')
    const { token } = await t.sessions.commit(s)
    // A plain write of an existing session is neither.
    const again = await t.sessions.load(token)
    again.put('visits', 2)
    await t.sessions.commit(again)
    const other = await t.sessions.load('')
    other.put('user', 'ada')
    await t.sessions.commit(other)
    expect(await t.sessions.revokeOwned('ada', { except: again })).toBe(1)
    await (await t.sessions.load(token)).destroy()
    expect(events).toEqual([
      'created:-',
      'renewed:ada',
      'created:ada',
      'revoked:ada:22',
      'destroyed:ada',
    ])
  })

  it("reports the count of each store cleanup's expired sessions", async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      let now = Date.parse('2024-01-02T15:04:05.000Z')
      const store = new MemoryStore({ cleanupInterval: 60_000, clock: () => now })
      const sessions = new SessionManager<{ n: number }>({ store, clock: () => now })
      const counts: number[] = []
      sessions.on('expired', ({ count }) => counts.push(count))
      for (let i = 0; i < 3; i++) {
        const s = await sessions.load('')
        s.put('n', i)
        s.setDeadline(new Date(now + 30_000))
        await sessions.commit(s)
      }
      now += 61_000
      vi.advanceTimersByTime(60_000)
      vi.advanceTimersByTime(60_000)
      expect(counts).toEqual([3])
      store.close()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('SessionManager idleRefresh', () => {
  async function loggedIn(t: ReturnType<typeof setup>) {
    const s = await t.sessions.load('')
    s.put('user', 'ada')
    await t.sessions.commitResponse(s)
    t.store.calls.length = 0
    return s.token
  }

  it('refreshes an unchanged session under an idle timeout only once the expiry would move by more than the window', async () => {
    const t = setup({ idleTimeout: 20 * 60_000 })
    const token = await loggedIn(t)
    // Inside the default window (the smaller of a tenth of 20 min and 60 s): nothing at all.
    t.advance(30_000)
    expect(await t.sessions.commitResponse(await t.sessions.load(token))).toBeUndefined()
    t.advance(29_000)
    expect(await t.sessions.commitResponse(await t.sessions.load(token))).toBeUndefined()
    expect(t.store.ops()).toEqual(['find', 'find'])
    // Past it: one touch, and the cookie moves with it.
    t.advance(2_000)
    expect(await t.sessions.commitResponse(await t.sessions.load(token))).toContain(
      `session=${token};`,
    )
    expect(t.store.ops()).toEqual(['find', 'find', 'find', 'touch'])
  })

  it('still writes every change, and with idleRefresh: 0 refreshes on every request as SCS does', async () => {
    const t = setup({ idleTimeout: 20 * 60_000 })
    const token = await loggedIn(t)
    const changed = await t.sessions.load(token)
    changed.put('user', 'bob')
    expect(await t.sessions.commitResponse(changed)).toContain(`session=${token};`)
    expect(t.store.ops()).toEqual(['find', 'replace'])
    const scs = setup({ idleTimeout: 20 * 60_000, idleRefresh: 0 })
    const every = await loggedIn(scs)
    for (let i = 0; i < 3; i++) {
      scs.advance(1_000)
      expect(await scs.sessions.commitResponse(await scs.sessions.load(every))).toContain(
        'session=',
      )
    }
    expect(scs.store.ops().filter((op) => op === 'touch')).toHaveLength(3)
  })

  it('lets a session end at most the window early: idle for its timeout after its last refresh, it is gone', async () => {
    const t = setup({ idleTimeout: 10 * 60_000, idleRefresh: 60_000 })
    const token = await loggedIn(t)
    t.advance(50_000)
    await t.sessions.commitResponse(await t.sessions.load(token)) // inside the window: no refresh
    t.advance(10 * 60_000 - 50_000 + 1)
    expect((await t.sessions.load(token)).token).toBe('')
  })

  it('rejects an idleRefresh that is not a non-negative number of ms, naming it', () => {
    expect(() => new SessionManager({ idleRefresh: -5 })).toThrow(/option idleRefresh/)
  })
})

describe('SessionManager idleRefresh and an identical put', () => {
  it('writes nothing and sends no cookie for a put that leaves the bytes as stored, inside the window', async () => {
    const t = setup({ idleTimeout: 20 * 60_000 })
    const s = await t.sessions.load('')
    s.put('message', 'same')
    await t.sessions.commitResponse(s)
    t.store.calls.length = 0
    t.advance(5_000)
    const again = await t.sessions.load(s.token)
    again.put('message', 'same')
    expect(await t.sessions.commitResponse(again)).toBeUndefined()
    expect(t.store.ops()).toEqual(['find'])
    const changed = await t.sessions.load(s.token)
    changed.put('message', 'other')
    expect(await t.sessions.commitResponse(changed)).toContain('session=')
    expect(t.store.ops()).toEqual(['find', 'find', 'replace'])
  })
})

describe('SessionManager: store capability groups', () => {
  const base = (): Store => {
    const inner = new MemoryStore({ cleanupInterval: 0 })
    return {
      find: (k) => inner.find(k),
      commit: (k, d, e, m) => inner.commit(k, d, e, m),
      delete: (k) => inner.delete(k),
    }
  }

  it('refuses a store with end() but no ended(), naming the missing method and the group', () => {
    const store = Object.assign(base(), { end: async () => undefined })
    expect(() => new SessionManager({ store })).toThrow(
      /implements end\(\) but not ended\(\): the ending capability needs end\(\), ended\(\) together/,
    )
  })

  it('refuses a store with part of the owner index, naming each missing method', () => {
    const store = Object.assign(base(), { setOwner: async () => {} })
    expect(() => new SessionManager({ store })).toThrow(/not listOwned\(\), touchOwned\(\)/)
  })

  it('reports the groups a store implements whole, and the ones it starts without finishing', () => {
    expect([...capabilitiesOf(new MemoryStore({ cleanupInterval: 0 })).has].sort()).toEqual([
      'compareAndSet',
      'ending',
      'expiryEvents',
      'listing',
      'ownerIndex',
      'touch',
    ])
    const partial = capabilitiesOf(Object.assign(base(), { ended: async () => undefined }))
    expect(partial.has.size).toBe(0)
    expect(partial.partial).toEqual([
      { capability: 'ending', present: ['ended'], missing: ['end'] },
    ])
  })

  it('runs a store with only find, commit and delete: writes, renewals and logouts still work', async () => {
    const sessions = new SessionManager<{ n: number }>({ store: base(), idleTimeout: 60_000 })
    const s = await sessions.load('')
    s.put('n', 1)
    const { token } = await sessions.commit(s)
    const loaded = await sessions.load(token)
    expect(loaded.get('n')).toBe(1)
    await loaded.renewToken()
    const renewed = await sessions.commit(loaded)
    expect((await sessions.load(token)).token).toBe('')
    const again = await sessions.load(renewed.token)
    expect(again.get('n')).toBe(1)
    await again.destroy()
    expect((await sessions.load(renewed.token)).token).toBe('')
    await expect(sessions.iterate(() => {})).rejects.toMatchObject({ code: 'ERR_NOT_ITERABLE' })
  })
})
