/** The known name closest to `name` by edit distance (case-insensitive), when close enough to be a typo. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  // A third of the name wrong is a different word, not a typo.
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

// Levenshtein distance, two rows.
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row.push(
        Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      )
    }
    previous = row
  }
  return previous[b.length] ?? 0
}

/** The first key of `given` not in `known`, with the nearest known name when it looks like a typo. */
export function unknownKey(
  given: object,
  known: readonly string[],
): { key: string; near: string | undefined } | undefined {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) return { key, near: nearest(key, known) }
  }
  return undefined
}
