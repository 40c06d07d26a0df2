// Cookie, or `*`, already listed as a whole Vary member.
const VARY_HAS_COOKIE = /(^|,)\s*(cookie|\*)\s*(,|$)/i

/**
 * The Vary value with `Cookie` added, for every adapter: `Cookie` for none, the value unchanged
 * when it already names Cookie or is `*`, and `<value>, Cookie` otherwise, so the header never
 * lists it twice (SCS adds a second Vary line, which means the same to a cache).
 */
export function varyWithCookie(vary: string | null | undefined): string {
  if (vary === null || vary === undefined || vary.trim() === '') return 'Cookie'
  return VARY_HAS_COOKIE.test(vary) ? vary : `${vary}, Cookie`
}
