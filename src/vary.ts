/**
 * The Vary value with `name` (a request header) added, for every adapter: `name` for none, the
 * value unchanged when it already lists `name` or is `*`, and `<value>, <name>` otherwise, so the
 * header never lists it twice (SCS adds a second Vary line, which means the same to a cache).
 */
export function varyWith(vary: string | null | undefined, name: string): string {
  if (vary === null || vary === undefined || vary.trim() === '') return name
  const wanted = name.toLowerCase()
  for (const member of vary.split(',')) {
    const m = member.trim().toLowerCase()
    if (m === wanted || m === '*') return vary
  }
  return `${vary}, ${name}`
}

/** {@link varyWith} for `Cookie`. */
export function varyWithCookie(vary: string | null | undefined): string {
  return varyWith(vary, 'Cookie')
}
