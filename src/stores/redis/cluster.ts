import type { NodeSend } from './client.js'

const SLOTS = 16_384
// Rounds of re-reading slots that moved while they were read, before giving up on one walk.
const MAX_ROUNDS = 20
const ALL_KEYS = '2147483647'
const LAYOUT_ATTEMPTS = 5

/** `prefix` escaped for SCAN's MATCH glob, so a prefix holding *, ?, [ or \ matches only itself. */
export function globEscape(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&')
}

/** What each master says of itself in CLUSTER NODES: the slots it serves and the ones it moves. */
interface Layout {
  /** Per slot, who claims it, and which slot moves are under way: the slot's whole state. */
  state: string[]
  /** The masters holding `slot`'s keys now, a migration's source first. */
  holders(slot: number): NodeSend[]
}

function parseRange(token: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(token)
  if (m === null) return undefined
  return [Number(m[1]), Number(m[2] ?? m[1])]
}

// The masters are asked one by one at nearly the same time; while a moved slot changes hands
// one may have let it go before the other's answer shows it taken. A gap is asked again a few
// times before it counts as slots nobody serves.
async function layoutOf(masters: NodeSend[]): Promise<Layout> {
  for (let attempt = 1; ; attempt++) {
    const layout = await readLayout(masters)
    if (layout.uncovered === 0 || attempt === LAYOUT_ATTEMPTS) {
      if (layout.uncovered > 0) {
        throw new Error(
          `the masters the client knows of serve ${SLOTS - layout.uncovered} of ${SLOTS} slots (a failover is under way or the client's slot map is stale), so all() stopped rather than return part of the sessions`,
        )
      }
      return layout
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

// One CLUSTER NODES reply per master: only its `myself` line is authoritative for migrations,
// which a node reports of itself alone.
async function readLayout(masters: NodeSend[]): Promise<Layout & { uncovered: number }> {
  const replies = await Promise.all(masters.map((send) => send(['CLUSTER', 'NODES'])))
  const claims: string[][] = Array.from({ length: SLOTS }, () => [])
  const moves: string[][] = Array.from({ length: SLOTS }, () => [])
  const sources: NodeSend[][] = Array.from({ length: SLOTS }, () => [])
  const others: NodeSend[][] = Array.from({ length: SLOTS }, () => [])
  replies.forEach((reply, i) => {
    const send = masters[i] as NodeSend
    const line = String(reply)
      .split('\n')
      .find((l) => l.split(' ')[2]?.split(',').includes('myself'))
    const fields = line?.trim().split(' ') ?? []
    const id = fields[0] ?? `node ${i}`
    // A node the client still takes for a master may have become a replica: it holds nothing.
    if (!fields[2]?.split(',').includes('master')) return
    for (const token of fields.slice(8)) {
      const move = /^\[(\d+)-([<>])-(\w+)\]$/.exec(token)
      if (move !== null) {
        const slot = Number(move[1])
        ;(moves[slot] as string[]).push(`${id}${move[2]}${move[3]}`)
        // A migrating slot's keys leave this node only once they are on the other: read it first.
        if (move[2] === '>') (sources[slot] as NodeSend[]).push(send)
        else (others[slot] as NodeSend[]).push(send)
        continue
      }
      const range = parseRange(token)
      if (range === undefined) continue
      for (let slot = range[0]; slot <= range[1] && slot < SLOTS; slot++) {
        ;(claims[slot] as string[]).push(id)
        ;(others[slot] as NodeSend[]).push(send)
      }
    }
  })
  return {
    uncovered: claims.filter((c) => c.length === 0).length,
    state: claims.map((c, slot) => `${c.join(',')}|${(moves[slot] as string[]).join(',')}`),
    holders: (slot) => [
      ...new Set([...(sources[slot] as NodeSend[]), ...(others[slot] as NodeSend[])]),
    ],
  }
}

async function scanNode(
  send: NodeSend,
  match: string,
  count: string,
  take: (key: unknown) => void,
): Promise<void> {
  let cursor = '0'
  do {
    const reply = (await send(['SCAN', cursor, 'MATCH', match, 'COUNT', count])) as [
      unknown,
      unknown[],
    ]
    cursor = String(reply[0])
    for (const key of reply[1]) take(key)
  } while (cursor !== '0')
}

/**
 * Every key on a Redis Cluster that starts with `prefix` and passes `keep`, also while slots
 * move: each master is SCANned, and the slots whose owner or migration changed meanwhile (or that
 * were migrating) are read again, slot by slot, from every node holding them, a migration's
 * source before its target (MIGRATE removes a key from the source only once the target has it),
 * until a round sees them stand still. A key that lived through the walk is never missed: the
 * walk returns it or rejects (masters not covering every slot, slots that kept moving for
 * {@link MAX_ROUNDS} rounds, a node not answering).
 */
export async function clusterKeys(
  masters: NodeSend[],
  prefix: string,
  count: string,
  keep: (key: string) => boolean,
): Promise<Set<string>> {
  const keys = new Set<string>()
  const take = (key: unknown): void => {
    const k = String(key)
    // GETKEYSINSLOT has no MATCH: its keys are filtered here.
    if (k.startsWith(prefix) && keep(k)) keys.add(k)
  }
  const match = `${globEscape(prefix)}*`
  let start = await layoutOf(masters)
  await Promise.all(masters.map((send) => scanNode(send, match, count, take)))
  let end = await layoutOf(masters)
  let risky: number[] = []
  for (let slot = 0; slot < SLOTS; slot++) {
    const was = start.state[slot] as string
    const is = end.state[slot] as string
    if (was !== is || moving(was) || moving(is)) risky.push(slot)
  }
  for (let round = 0; risky.length > 0; round++) {
    if (round === MAX_ROUNDS) {
      throw new Error(
        `${risky.length} slots kept moving through ${MAX_ROUNDS} rounds of reading them, so all() stopped rather than return part of the sessions`,
      )
    }
    start = end
    const layout = start
    // Slots side by side; within a slot, its holders in order (the source first).
    await Promise.all(
      risky.map(async (slot) => {
        for (const send of layout.holders(slot)) {
          const found = (await send([
            'CLUSTER',
            'GETKEYSINSLOT',
            String(slot),
            ALL_KEYS,
          ])) as unknown[]
          for (const key of found) take(key)
        }
      }),
    )
    end = await layoutOf(masters)
    risky = risky.filter((slot) => layout.state[slot] !== end.state[slot])
  }
  return keys
}

// A slot state is `claimers|moves`; any move recorded means keys may be on their way.
function moving(state: string): boolean {
  return !state.endsWith('|')
}
