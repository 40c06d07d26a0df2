import { describe, expect, it } from 'vitest'
import { generateToken, hashToken, isValidToken } from '../../src/index.ts'

describe('generateToken', () => {
  it('gives 43 base64url characters, distinct across many pool refills', () => {
    const tokens = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const token = generateToken()
      expect(isValidToken(token)).toBe(true)
      tokens.add(token)
    }
    expect(tokens.size).toBe(10_000)
  })

  it('decodes to 32 bytes that are not all alike', () => {
    const bytes = Buffer.from(generateToken(), 'base64url')
    expect(bytes.length).toBe(32)
    expect(new Set(bytes).size).toBeGreaterThan(8)
  })
})

describe('hashToken', () => {
  it('is unpadded base64url SHA-256 of the token, as SCS stores it', () => {
    expect(hashToken('example')).toBe('UNhY4JhezH9gQYqvDMWrWH9CwlcKiECVqejMrND2VFw')
  })
})
