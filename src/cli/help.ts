/** One line of usage per command, as the errors quote it. */
const USAGE = {
  stats: 'sessionkit stats <store>',
  list: 'sessionkit list <store> [--owner <id>] [--limit <n>] [--show-tokens]',
  show: 'sessionkit show <store> <token|handle>',
  prune: 'sessionkit prune <store> [--batch <n>]',
  revoke: 'sessionkit revoke <store> <token|handle> | --owner <id> [--except <token|handle>]',
  export: 'sessionkit export <store> > sessions.jsonl',
  import: 'sessionkit import <store> [--replace] < sessions.jsonl',
} as const

/** The usage line of `command`. */
export function usageOf(command: keyof typeof USAGE): string {
  return `usage: ${USAGE[command]}`
}

const STORE = `<store> is a URL:
  sqlite:./sessions.db            a SQLite file (it must exist, but import creates it as the
                                  store would: WAL and schema; --table, default sessions;
                                  --busy-timeout <ms> waits for another process's lock, 5000)
  postgres://user@host/db         PostgreSQL (--table, default sessions)
  redis://host:6379               Redis (--prefix, default scs:session:); a Redis Cluster
                                  node's URL reaches the whole cluster

Common options:
  --json          machine-readable output (one JSON value, or one per line)
  --hash-tokens   tokens are hashed in the store (the app sets hashTokenInStore)
  -h, --help      this help

A handle (what list prints; the id listOwned gives) works wherever a token does: show, revoke,
--except. The token is tried first; a handle is found by reading every session's key, which
takes time in proportion to the sessions in the store (fine now and then, not in a loop).
A token can begin with '-': put it after '--' (sessionkit show <store> -- <token>), and give
--except its token as --except=<token>.

Exit codes: 0 done (also when the reader of a pipe goes away: sessionkit list … | head -2),
1 the store or the data failed, 2 bad usage.`

/** `--help` of the program and of each command. */
export const HELP: Record<'main' | keyof typeof USAGE, string> = {
  main: `sessionkit — look after the sessions an app keeps

Commands:
  ${USAGE.stats}
      rows, live and expired, bytes, expiry range, codecs, owners (SQLite: file, WAL, mode)
  ${USAGE.list}
      live sessions: handle, expiry, size, codec, owner (tokens only with --show-tokens)
  ${USAGE.show}
      one session, by token or handle, decoded (JSON or Go gob), its deadline and expiry
  ${USAGE.prune}
      deletes expired sessions in small batches while apps keep running
  ${USAGE.revoke}
      signs one session out (by token or handle), or all of a user's (but one)
  ${USAGE.export}
      every live session as JSON Lines (data as base64, and decoded)
  ${USAGE.import}
      writes exported sessions, keeping ones already there unless --replace; creates a
      missing SQLite file

${STORE}`,
  stats: `${USAGE.stats}

Counts the store's rows (live and expired), their bytes, the oldest and newest expiry, rows by
codec (sessionkit's JSON, Go SCS's gob) and, with an owner index, the owners. For SQLite also
the file and WAL sizes and the journal mode.

${STORE}`,
  list: `${USAGE.list}

Lists live sessions, soonest expiry first: their handle (the id listOwned gives, never the
token; show and revoke take it), expiry, size, codec and owner.
  --owner <id>     only this user's sessions (needs the owner index)
  --limit <n>      at most n (default 50)
  --show-tokens    print each store key too: a key is a live credential, keep it out of logs

${STORE}`,
  show: `${USAGE.show}

Prints one live session, named by its token or its handle: handle, expiry, owner, codec,
deadline and its values decoded. Exits 1 when neither names a live session.

${STORE}`,
  prune: `${USAGE.prune}

Deletes expired sessions in batches (default 500 rows), pausing between them so running apps
keep writing. Shows a progress bar on a terminal and a line a second otherwise.

${STORE}`,
  revoke: `${USAGE.revoke}

Deletes the session of <token> (or of the handle list printed), or with --owner every session
of that user, except the one of --except <token|handle>. Exits 1 when it names no live session.

${STORE}`,
  export: `${USAGE.export}

Writes every live session as one JSON line: key, expiresAt, data (base64), owner, codec,
deadline and values (decoded, for reading; import uses data).

${STORE}`,
  import: `${USAGE.import}

Reads export's lines from standard input and writes them, skipping sessions already in the
store (unless --replace) and ones expired since. A SQLite file that is missing (its folder must
exist) or empty is created as openSQLiteStore creates one: WAL and the schema. Moving stores:
  sessionkit export sqlite:./sessions.db | sessionkit import postgres://…
  sessionkit export sqlite:./old.db | sessionkit import sqlite:./new.db

${STORE}`,
}
