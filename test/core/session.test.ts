import { describe, expect, it } from 'vitest'
import { SessionError, SessionManager, ZERO_TIME } from '../../src/index.ts'

type Data = { foo: unknown; baz: unknown; woo: unknown; blah: string }

async function fresh() {
  const sessions = new SessionManager<Data>()
  return sessions.load('')
}

describe('Session value operations (SCS data_test.go)', () => {
  it('put stores the value and marks the session modified (TestPut)', async () => {
    const s = await fresh()
    s.put('foo', 'bar')
    expect(s.get('foo')).toBe('bar')
    expect(s.status).toBe('modified')
  })

  it('get returns the value without changing the status (TestGet)', async () => {
    const s = await fresh()
    expect(s.get('foo')).toBeUndefined()
    expect(s.status).toBe('unmodified')
  })

  it('pop returns the value, removes the key and marks modified (TestPop)', async () => {
    const s = await fresh()
    s.put('foo', 'bar')
    expect(s.pop('foo')).toBe('bar')
    expect(s.has('foo')).toBe(false)
    expect(s.status).toBe('modified')
  })

  it('pop and remove of a missing key change nothing', async () => {
    const s = await fresh()
    expect(s.pop('foo')).toBeUndefined()
    s.remove('foo')
    expect(s.status).toBe('unmodified')
  })

  it('remove deletes the key and marks modified (TestRemove)', async () => {
    const s = await fresh()
    s.put('foo', 'bar')
    s.remove('foo')
    expect(s.get('foo')).toBeUndefined()
    expect(s.status).toBe('modified')
  })

  it('clear empties the values and marks modified, and is a no-op when empty (TestClear)', async () => {
    const empty = await fresh()
    empty.clear()
    expect(empty.status).toBe('unmodified')
    const s = await fresh()
    s.put('foo', 'bar')
    s.put('baz', 'boz')
    s.clear()
    expect(s.get('foo')).toBeUndefined()
    expect(s.get('baz')).toBeUndefined()
    expect(s.status).toBe('modified')
  })

  it('has reports presence, even of a stored undefined (TestExists)', async () => {
    const s = await fresh()
    s.put('foo', 'bar')
    s.put('woo', undefined)
    expect(s.has('foo')).toBe(true)
    expect(s.has('woo')).toBe(true)
    expect(s.has('baz')).toBe(false)
  })

  it('keys returns every key sorted, and an empty array when there are none (TestKeys)', async () => {
    const s = await fresh()
    expect(s.keys()).toEqual([])
    s.put('woo', 'waa')
    s.put('foo', 'bar')
    s.rememberMe(true)
    expect(s.keys()).toEqual(['__rememberMe', 'foo', 'woo'])
  })

  it('status is unmodified, then modified after put, then destroyed after destroy (TestStatus)', async () => {
    const s = await fresh()
    expect(s.status).toBe('unmodified')
    s.put('foo', 'bar')
    expect(s.status).toBe('modified')
    await s.destroy()
    expect(s.status).toBe('destroyed')
  })
})

describe('Session typed getters and poppers (SCS TestGet*/TestPop*)', () => {
  const now = new Date('2024-01-02T15:04:05.123Z')
  const cases = [
    ['getString', 'popString', 'bar', ''],
    ['getBoolean', 'popBoolean', true, false],
    ['getNumber', 'popNumber', 123, 0],
    ['getNumber', 'popNumber', 123.456, 0],
    ['getBytes', 'popBytes', new Uint8Array([98, 97, 114]), new Uint8Array(0)],
    ['getDate', 'popDate', now, new Date(ZERO_TIME)],
  ] as const

  for (const [getter, popper, value, zero] of cases) {
    it(`${getter} returns the stored value and the zero value when missing`, async () => {
      const s = await fresh()
      s.put('foo', value)
      expect(s[getter]('foo')).toEqual(value)
      expect(s[getter]('baz')).toEqual(zero)
    })

    it(`${popper} returns the value, removes the key and marks modified`, async () => {
      const s = await fresh()
      s.put('foo', value)
      const before = await fresh()
      expect(before[popper]('foo')).toEqual(zero)
      expect(before.status).toBe('unmodified')
      expect(s[popper]('foo')).toEqual(value)
      expect(s.has('foo')).toBe(false)
      expect(s.status).toBe('modified')
    })
  }

  it('returns the zero value for a wrong type, and a popper still removes the key', async () => {
    const s = await fresh()
    s.put('foo', 42)
    expect(s.getString('foo')).toBe('')
    expect(s.getBoolean('foo')).toBe(false)
    expect(s.getDate('foo').getTime()).toBe(ZERO_TIME)
    expect(s.popString('foo')).toBe('')
    expect(s.has('foo')).toBe(false)
  })

  it("getDate's zero value is Go's zero time, 0001-01-01T00:00:00Z", () => {
    expect(new Date(ZERO_TIME).toISOString()).toBe('0001-01-01T00:00:00.000Z')
  })
})

describe('Session#setDeadline and #rememberMe', () => {
  it('setDeadline changes the deadline and marks modified', async () => {
    const s = await fresh()
    const d = new Date(Date.now() + 60_000)
    s.setDeadline(d)
    expect(s.deadline.getTime()).toBe(d.getTime())
    expect(s.status).toBe('modified')
    expect(() => s.setDeadline(new Date(Number.NaN))).toThrow(RangeError)
  })

  it('rememberMe stores __rememberMe in the data and marks modified', async () => {
    const s = await fresh()
    s.rememberMe(false)
    expect(s.status).toBe('modified')
    expect(s.getBoolean('__rememberMe' as 'foo')).toBe(false)
  })
})

describe('Session types', () => {
  it('types get and put by the manager data type', async () => {
    const sessions = new SessionManager<{ userId: number }>()
    const s = await sessions.load('')
    s.put('userId', 1)
    const id: number | undefined = s.get('userId')
    expect(id).toBe(1)
    // @ts-expect-error a string is not a userId
    s.put('userId', 'x')
    // @ts-expect-error unknown keys do not compile
    s.get('nope')
  })

  it('SessionError carries a stable code and a cause', () => {
    const err = new SessionError('ERR_STORE', 'x', { cause: new Error('y') })
    expect(err.code).toBe('ERR_STORE')
    expect((err.cause as Error).message).toBe('y')
  })
})
