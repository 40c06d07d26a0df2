/**
 * The latest deadline a session may have: 9999-12-31T23:59:58.999Z, the last instant whose
 * cookie Expires (rounded up to the next second) still has a four-digit year, which SQLite's
 * `julianday()` can hold too.
 */
export const MAX_DEADLINE = Date.UTC(9999, 11, 31, 23, 59, 58, 999)
