// The primitive encodings of Go's encoding/gob, from its package documentation: unsigned
// integers in one byte below 128, else a negated byte count and big-endian bytes; signed
// integers zig-zagged into the low bit; floats as their byte-reversed IEEE 754 bits; strings and
// byte slices as a length and their bytes. Numbers take a fast path; bigints only beyond 2^53.

const U64 = (1n << 64n) - 1n
const TWO_32 = 2 ** 32
// Go's time.Time counts seconds from January 1, year 1, UTC.
const SECONDS_TO_UNIX = 62_135_596_800
// Scratch for float bit twiddling, shared: every use is synchronous.
const scratch = new DataView(new ArrayBuffer(8))

/** A gob stream that does not parse: truncated, or a value of a shape the codec cannot read. */
export class GobFormatError extends Error {
  override name = 'GobFormatError'
}

/** Reads gob primitives from a byte array, front to back; every read checks its bounds. */
export class GobReader {
  readonly #buf: Buffer
  #at: number
  readonly #end: number

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.#at = start
    this.#end = end
  }

  get done(): boolean {
    return this.#at >= this.#end
  }

  /** A reader over the next `length` bytes, which this reader then skips. */
  slice(length: number): GobReader {
    if (length < 0 || this.#at + length > this.#end) throw new GobFormatError('unexpected EOF')
    const inner = new GobReader(this.#buf, this.#at, this.#at + length)
    this.#at += length
    return inner
  }

  /** The offset `length` bytes ahead, checked to be inside this reader; pair it with `endAt`. */
  ahead(length: number): number {
    if (length < 0 || this.#at + length > this.#end) throw new GobFormatError('unexpected EOF')
    return this.#at + length
  }

  /** Throws unless the reader stands exactly at `offset`: a value did not fill its stated length. */
  endAt(offset: number): void {
    if (this.#at !== offset) throw new GobFormatError('a value does not match its length')
  }

  byte(): number {
    if (this.#at >= this.#end) throw new GobFormatError('unexpected EOF')
    return this.#buf[this.#at++] as number
  }

  #count(first: number): number {
    const count = 256 - first
    if (count > 8) throw new GobFormatError(`invalid uint length ${count}`)
    if (this.#at + count > this.#end) throw new GobFormatError('unexpected EOF')
    return count
  }

  /** An unsigned integer as a number when it is below 2^53, else as a bigint. */
  uintAny(): number | bigint {
    const first = this.byte()
    if (first < 0x80) return first
    const count = this.#count(first)
    if (count <= 6) {
      let value = 0
      for (let i = 0; i < count; i++) value = value * 256 + (this.#buf[this.#at++] as number)
      return value
    }
    let value = 0n
    for (let i = 0; i < count; i++) value = (value << 8n) | BigInt(this.#buf[this.#at++] as number)
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
  }

  /** An unsigned integer that must fit a safe JavaScript number (a length, a count, a delta). */
  uint(): number {
    const value = this.uintAny()
    if (typeof value !== 'number') throw new GobFormatError('count too large')
    return value
  }

  /** A signed integer as a number when it fits one exactly, else as a bigint. */
  intAny(): number | bigint {
    const u = this.uintAny()
    if (typeof u === 'number') {
      const half = Math.floor(u / 2)
      return u % 2 === 1 ? -half - 1 : half
    }
    const v = u & 1n ? ~(u >> 1n) : u >> 1n
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v
  }

  int(): number {
    const value = this.intAny()
    if (typeof value !== 'number') throw new GobFormatError('integer too large')
    return value
  }

  float(): number {
    // The float's bytes, reversed, as a uint: its big-endian bytes are the float's from the last
    // non-zero one down to the first, the float's trailing zero bytes having dropped away.
    for (let i = 0; i < 8; i++) scratch.setUint8(i, 0)
    const first = this.byte()
    if (first < 0x80) {
      scratch.setUint8(0, first)
      return scratch.getFloat64(0)
    }
    const count = this.#count(first)
    for (let i = count - 1; i >= 0; i--) scratch.setUint8(i, this.#buf[this.#at++] as number)
    return scratch.getFloat64(0)
  }

  bytes(): Uint8Array {
    const length = this.uint()
    if (this.#at + length > this.#end) throw new GobFormatError('unexpected EOF')
    const out = new Uint8Array(length)
    this.#buf.copy(out, 0, this.#at, this.#at + length)
    this.#at += length
    return out
  }

  string(): string {
    const length = this.uint()
    if (this.#at + length > this.#end) throw new GobFormatError('unexpected EOF')
    const out = this.#buf.toString('utf8', this.#at, this.#at + length)
    this.#at += length
    return out
  }

  /**
   * time.Time's MarshalBinary, as gob carries it, read in place: version 1, seconds since year 1
   * (int64), the nanoseconds (int32) and the zone offset in minutes (int16, -1 for UTC),
   * big-endian; version 2 adds the offset's seconds. The instant survives to the millisecond;
   * sub-millisecond digits and the zone do not.
   */
  goTime(): Date {
    const length = this.uint()
    if (length < 15 || this.#at + length > this.#end) {
      throw new GobFormatError('unsupported time.Time encoding')
    }
    const b = this.#buf
    const at = this.#at
    const version = b[at]
    if (version !== 1 && version !== 2) {
      throw new GobFormatError(`unsupported time.Time encoding (version ${version})`)
    }
    const seconds = b.readInt32BE(at + 1) * TWO_32 + b.readUInt32BE(at + 5) - SECONDS_TO_UNIX
    const nanos = b.readInt32BE(at + 9)
    this.#at += length
    return new Date(seconds * 1000 + Math.floor(nanos / 1e6))
  }

  /** True when the next bytes equal `prefix` (then skipped); the reader is unchanged otherwise. */
  startsWith(prefix: Uint8Array): boolean {
    if (this.#end - this.#at < prefix.length) return false
    if (this.#buf.compare(prefix, 0, prefix.length, this.#at, this.#at + prefix.length) !== 0) {
      return false
    }
    this.#at += prefix.length
    return true
  }
}

/** Writes gob primitives into one growing buffer; a length can be put in front of what follows a mark. */
export class GobWriter {
  #buf = Buffer.allocUnsafe(512)
  #length = 0

  get length(): number {
    return this.#length
  }

  #room(n: number): void {
    if (this.#length + n <= this.#buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#length + n))
    this.#buf.copy(next, 0, 0, this.#length)
    this.#buf = next
  }

  byte(b: number): void {
    this.#room(1)
    this.#buf[this.#length++] = b
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.length)
    this.#buf.set(bytes, this.#length)
    this.#length += bytes.length
  }

  uint(value: number | bigint): void {
    if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      if (value < 0x80) {
        this.byte(value)
        return
      }
      let count = 0
      for (let v = value; v >= 1; v = Math.floor(v / 256)) count++
      this.#room(count + 1)
      this.#buf[this.#length++] = 256 - count
      let v = value
      for (let i = count - 1; i >= 0; i--) {
        this.#buf[this.#length + i] = v % 256
        v = Math.floor(v / 256)
      }
      this.#length += count
      return
    }
    let v = BigInt(value)
    if (v < 0n || v > U64) throw new GobFormatError(`uint out of range: ${v}`)
    if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
      this.uint(Number(v))
      return
    }
    const out: number[] = []
    while (v > 0n) {
      out.unshift(Number(v & 0xffn))
      v >>= 8n
    }
    this.byte(256 - out.length)
    for (const b of out) this.byte(b)
  }

  int(value: number | bigint): void {
    if (typeof value === 'number' && Math.abs(value) <= 2 ** 52) {
      this.uint(value < 0 ? -value * 2 - 1 : value * 2)
      return
    }
    const v = BigInt(value)
    this.uint(v < 0n ? (~v << 1n) | 1n : v << 1n)
  }

  float(value: number): void {
    scratch.setFloat64(0, value)
    // Reversed, the float's last bytes lead, so its trailing zero bytes (usually many) fall away:
    // the uint's big-endian bytes are the float's bytes from the last non-zero one down to the first.
    let last = 7
    while (last >= 0 && scratch.getUint8(last) === 0) last--
    if (last < 0) {
      this.byte(0)
      return
    }
    if (last === 0 && scratch.getUint8(0) < 0x80) {
      this.byte(scratch.getUint8(0))
      return
    }
    this.#room(last + 2)
    this.#buf[this.#length++] = 256 - (last + 1)
    for (let i = last; i >= 0; i--) this.#buf[this.#length++] = scratch.getUint8(i)
  }

  bytes(bytes: Uint8Array): void {
    this.uint(bytes.length)
    this.raw(bytes)
  }

  string(value: string): void {
    const length = Buffer.byteLength(value)
    this.uint(length)
    this.#room(length)
    this.#length += this.#buf.write(value, this.#length, 'utf8')
  }

  /** A position to come back to with `lengthFrom`. */
  mark(): number {
    return this.#length
  }

  /** Puts the length of everything written since `mark` in front of it, as gob frames a message or a value. */
  lengthFrom(mark: number): void {
    const length = this.#length - mark
    let prefix: number
    if (length < 0x80) prefix = 1
    else {
      prefix = 1
      for (let v = length; v >= 1; v = Math.floor(v / 256)) prefix++
    }
    this.#room(prefix)
    this.#buf.copy(this.#buf, mark + prefix, mark, this.#length)
    const end = this.#length + prefix
    this.#length = mark
    this.uint(length)
    this.#length = end
  }

  /** time.Time's MarshalBinary of `ms` (version 1, UTC) as a gob byte slice, written in place. */
  goTime(ms: number): void {
    this.#room(16)
    const b = this.#buf
    let at = this.#length
    b[at++] = 15
    b[at++] = 1
    const unixSeconds = Math.floor(ms / 1000)
    const seconds = unixSeconds + SECONDS_TO_UNIX
    const high = Math.floor(seconds / TWO_32)
    b.writeInt32BE(high, at)
    b.writeUInt32BE(seconds - high * TWO_32, at + 4)
    b.writeInt32BE((ms - unixSeconds * 1000) * 1e6, at + 8)
    b.writeInt16BE(-1, at + 12)
    this.#length = at + 14
  }

  /** The bytes written so far: a view of this writer's own buffer, so write nothing after. */
  take(): Uint8Array {
    return this.#buf.subarray(0, this.#length)
  }
}
