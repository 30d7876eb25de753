// Single-use `jti` store. In memory for one replica; src/auth/redis-replay-store.ts when scaled out.
import { hash, randomBytes } from 'node:crypto'

export interface ReplayStore {
  /** Reserves `key` for `ttlMs`. true: first use; false: seen before. Rejects when the store cannot answer. */
  claimOnce (key: string, ttlMs: number): Promise<boolean>
  /** Resolves when the store answers (readiness). */
  ping (): Promise<void>
  close (): Promise<void>
}

/** Tables the fingerprints are spread over by their top bits; each is resized on its own (see the class comment). */
const SEGMENT_BITS = 7
const SEGMENTS = 2 ** SEGMENT_BITS
/** Memory is committed in whole pages, so the smallest table fills one (256–320 slots of 12 bytes). */
const PAGE = 4096
const MIN_SLOTS = 256
/**
 * Grow a table past 85 % full. Nearly every claim is a new key, so it probes to the end of a run:
 * ~20 slots at 85 % (240 bytes read in sequence), small next to SHA-256.
 */
const MAX_LOAD = 0.85
/** Table sizes step by this factor, so a resize leaves a table 68 % full and loads stay in 68–85 %. */
const GROWTH = 1.25
/** Load a table is rebuilt to: the next growth is a GROWTH step away. */
const BUILD_LOAD = MAX_LOAD / GROWTH
/**
 * Slots the sweep looks at per claim. A pass over all tables takes slots / 32 claims (~4 s of
 * traffic at full load), so an expired entry outlives its reservation by ~2 s on average: ~2.5 %
 * more entries than live ones, for ~50 ns a claim. 16 slots would halve the time and double that.
 */
const SWEEP_STEP = 32
/** ...done in runs every 64 claims, so that claimOnce itself only counts. */
const SWEEP_EVERY = 64
/** Int32 words per slot: fingerprint high, fingerprint low, end second (0: the slot is empty). */
const WORDS = 3
const END = 2
/** End seconds count from 2^20 s (~12 days) before the store was made: positive even if the clock steps back. */
const EPOCH_MARGIN_S = 2 ** 20
const MAX_END_S = 2 ** 31 - 1
const TWO_32 = 2 ** 32

/** ES2024 resizable ArrayBuffer (Node >= 20); the project's TypeScript lib stops at ES2023. */
interface ResizableBuffer extends ArrayBuffer {
  resize (byteLength: number): void
}

/**
 * An ArrayBuffer that can be freed on the spot, by resizing it to 0 (it never grows). A plain
 * ArrayBuffer that has lived a while is freed only by a full collection, which a quiet process may
 * not run for minutes: growing plain tables to 900 000 entries left ~45 MB of dead ones behind.
 */
function freeableBuffer (byteLength: number): ResizableBuffer {
  const Resizable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableBuffer
  return new Resizable(byteLength, { maxByteLength: byteLength })
}

/** Slots of `segment`'s table at size step `rung`; segments are a fraction of a step apart, see the class comment. */
function slotsAt (segment: number, rung: number): number {
  return Math.round(MIN_SLOTS * GROWTH ** (rung + segment / SEGMENTS))
}

/**
 * A slot holds an expired entry: 1 <= end <= nowS, as one unsigned comparison. Empty slots are
 * frequent and scattered, so testing `end !== 0` first mispredicts often: it made the sweep's scan
 * three times slower (~4.5 against ~1.5 ns a slot).
 */
function isExpired (end: number, nowS: number): boolean {
  return (end - 1) >>> 0 < nowS
}

/** Home slot of a fingerprint: its low word scaled to the table (any size, not only powers of two). */
function homeOf (lo: number, slots: number): number {
  return ((lo >>> 0) * slots / TWO_32) | 0
}

/**
 * Process-local store: correct only with one replica (Helm renders Redis for more).
 *
 * A jti is remembered for exp + 30 s, so at a high request rate the store holds the last ~90 s of
 * traffic: ~550 000 entries at 6 000 requests/s. As a Map of strings that was ~120 bytes and three
 * heap objects per entry, and the garbage collector marked them all again and again (~10 % of the
 * CPU and most of the RSS growth in `npm run bench -- --soak`, docs/performance.md). Here an entry is
 * 12 bytes in an Int32Array, nothing for the collector to walk: a 64-bit keyed fingerprint and the
 * second its reservation ends, 0 marking an empty slot (open addressing, linear probing,
 * backward-shift deletion, so no tombstones).
 * Fingerprints are SHA-256(per-process random salt ‖ key), so nobody can aim two keys at the same
 * one; by chance two keys share a fingerprint with probability ~n / 2^64 (1e-13 at a million live
 * entries), which would refuse one legitimate request as a replay — never accept a replay.
 *
 * Expiry is kept in whole seconds, rounded up: a reservation of `ttlMs` made at `now` ends at
 * ceil((now + ttlMs) / 1000) s, up to 1 s late. The caller's ttl is exp + 30 s − now, so that only
 * refuses a replay a little longer; it never ends a reservation early.
 *
 * Memory (bench/replay-store-memory.mjs, a 90 s window of 550 000 or 900 000 live entries): ~17
 * bytes per live entry, at the peak while it grows as well; the previous layout (a "used" byte, a
 * Float64 end in ms, power-of-two tables 35–70 % full, a list of fingerprints per expiry second for
 * the sweep) held 43–53 and peaked at 56–71 with old and new tables alive during a resize.
 * - The fingerprints are spread over 128 segments, each its own table, and each segment steps its
 *   size by 1.25× on a ladder offset by segment/128 of a step. So the segments fill up and grow at
 *   different times: the tables together sit near the middle of the 68–85 % band, where one table
 *   doubling swings over 35–70 %.
 * - A resize copies one segment (~1/128 of the store) into a new table and frees the old one at
 *   once (a resizable ArrayBuffer, resized to 0), so at most one segment's old and new tables are
 *   alive together, and no dead table waits for a full collection to give its memory back: RSS
 *   grows by 44–51 MB over the benchmark's run, against 87–104 MB before (~30 MB of either is the
 *   run's own JS heap). The cost: reading and writing through resizable buffers makes a claim
 *   ~0.1 µs slower.
 * - Sweeping needs no index: every claim looks at the next 32 slots of a cursor that walks all the
 *   tables and removes the expired entries it meets, and a claim that probes past an expired entry
 *   takes its slot. A segment the cursor leaves little more than half full is rebuilt a step smaller,
 *   so memory follows the live window while claims keep coming (when they stop, nothing runs until
 *   the next claim or sweep()).
 * claimOnce takes ~0.9–1.0 µs against ~1.7–1.9 µs before (medians at 900 000 entries on the 2-core
 * benchmark machine, SHA-256 included): the one-shot crypto.hash with a string result does without
 * a Hash object and a Buffer, which more than pays for fuller tables, the sweep and resizable buffers.
 */
export class MemoryReplayStore implements ReplayStore {
  /** The salt as text, so that salt ‖ key is one string for crypto.hash. */
  private readonly salt = randomBytes(32).toString('hex')
  private readonly nowMs: () => number
  /** End seconds are stored as (second − epochS), see EPOCH_MARGIN_S. */
  private readonly epochS: number
  private readonly buffers: ResizableBuffer[] = []
  private readonly tables: Int32Array[] = []
  private readonly rungs = new Int32Array(SEGMENTS)
  private readonly slots = new Int32Array(SEGMENTS)
  private readonly counts = new Int32Array(SEGMENTS)
  /** A segment grows when its count reaches this. */
  private readonly growAt = new Int32Array(SEGMENTS)
  private count = 0
  private cursorSegment = 0
  private cursorSlot = 0
  private claimsSinceSweep = 0

  constructor (nowMs: () => number = Date.now) {
    this.nowMs = nowMs
    this.epochS = Math.floor(nowMs() / 1000) - EPOCH_MARGIN_S
    for (let segment = 0; segment < SEGMENTS; segment++) this.allocate(segment, 0)
  }

  async claimOnce (key: string, ttlMs: number): Promise<boolean> {
    const now = this.nowMs()
    const nowS = this.secondOf(now)
    let endS = Math.ceil((now + (ttlMs > 1 ? ttlMs : 1)) / 1000) - this.epochS
    // clamp into int32 (and away from 0, the empty mark); a clock stepped back 12 days keeps the key longer, never shorter
    endS = endS < MAX_END_S ? (endS > 1 ? endS : 1) : MAX_END_S
    if (++this.claimsSinceSweep === SWEEP_EVERY) this.sweepStep(nowS)
    // a 'binary' (latin1) string: a Buffer result would cost an ArrayBuffer and a malloc per claim (~0.4 µs)
    const digest = hash('sha256', this.salt + key, 'binary')
    const hi = digest.charCodeAt(0) | digest.charCodeAt(1) << 8 | digest.charCodeAt(2) << 16 | digest.charCodeAt(3) << 24
    const lo = digest.charCodeAt(4) | digest.charCodeAt(5) << 8 | digest.charCodeAt(6) << 16 | digest.charCodeAt(7) << 24
    const segment = hi >>> (32 - SEGMENT_BITS)
    if ((this.counts[segment] as number) >= (this.growAt[segment] as number)) this.resize(segment, nowS, (this.rungs[segment] as number) + 1)
    const table = this.tables[segment] as Int32Array
    const slots = this.slots[segment] as number
    let slot = homeOf(lo, slots)
    let expired = -1
    for (;;) {
      const at = slot * WORDS
      const end = table[at + END] as number
      if (end === 0) break
      if (table[at] === hi && table[at + 1] === lo) {
        if (end > nowS) return false
        table[at + END] = endS // expired but not swept yet: reserve it again
        return true
      }
      if (expired < 0 && end <= nowS) expired = slot
      if (++slot === slots) slot = 0
    }
    if (expired >= 0) {
      // the key is not in the table (the probe reached an empty slot) and this expired entry lies on
      // its probe path, so the new entry can take its place: it stays reachable from its home
      slot = expired
    } else {
      this.counts[segment]++
      this.count++
    }
    const at = slot * WORDS
    table[at] = hi
    table[at + 1] = lo
    table[at + END] = endS
    return true
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    for (let segment = 0; segment < SEGMENTS; segment++) {
      const old = this.buffers[segment] as ResizableBuffer
      this.allocate(segment, 0)
      old.resize(0)
    }
    this.counts.fill(0)
    this.count = 0
    this.cursorSegment = 0
    this.cursorSlot = 0
    this.claimsSinceSweep = 0
  }

  /** Entries held, expired ones not swept yet included. */
  get size (): number {
    return this.count
  }

  /**
   * Memory of the tables, in the whole pages committed to them. process.memoryUsage() counts
   * resizable buffers in `external` only (not `arrayBuffers`), and a freed one until a collection.
   */
  get byteLength (): number {
    let bytes = 0
    for (const buffer of this.buffers) bytes += Math.ceil(buffer.byteLength / PAGE) * PAGE
    return bytes
  }

  /** Drops every expired entry and shrinks the tables to fit; claims do the same a few slots at a time. */
  sweep (now = this.nowMs()): void {
    const nowS = this.secondOf(now)
    for (let segment = 0; segment < SEGMENTS; segment++) {
      const table = this.tables[segment] as Int32Array
      const slots = this.slots[segment] as number
      for (let slot = 0; slot < slots;) {
        // removing shifts a later entry into this slot: look at it again
        if (isExpired(table[slot * WORDS + END] as number, nowS)) this.remove(segment, slot)
        else slot++
      }
      this.shrinkIfSparse(segment, nowS)
    }
  }

  /**
   * `now` as a stored end second: entries ending at or before it are expired (end s > now / 1000 ⇔
   * end s > floor(now / 1000)). Never below 0, so an empty slot (0) never reads as live.
   */
  private secondOf (now: number): number {
    const s = Math.floor(now / 1000) - this.epochS
    return s > 0 ? s : 0
  }

  /** The amortised sweep: SWEEP_STEP slots per claim from the cursor, which walks every table in turn. */
  private sweepStep (nowS: number): void {
    this.claimsSinceSweep = 0
    let segment = this.cursorSegment
    let slot = this.cursorSlot
    let table = this.tables[segment] as Int32Array
    let slots = this.slots[segment] as number
    for (let n = 0; n < SWEEP_EVERY * SWEEP_STEP; n++) {
      if (slot >= slots) {
        this.shrinkIfSparse(segment, nowS)
        segment = (segment + 1) % SEGMENTS
        slot = 0
        table = this.tables[segment] as Int32Array
        slots = this.slots[segment] as number
      }
      if (isExpired(table[slot * WORDS + END] as number, nowS)) this.remove(segment, slot)
      else slot++
    }
    this.cursorSegment = segment
    this.cursorSlot = slot
  }

  /** Backward-shift deletion: later entries of the probe run move up, so no tombstones are needed. */
  private remove (segment: number, slot: number): void {
    const table = this.tables[segment] as Int32Array
    const slots = this.slots[segment] as number
    let hole = slot
    for (let j = hole + 1 === slots ? 0 : hole + 1; table[j * WORDS + END] !== 0; j = j + 1 === slots ? 0 : j + 1) {
      const home = homeOf(table[j * WORDS + 1] as number, slots)
      // the entry at j stays when its home slot lies cyclically in (hole, j]
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j
      if (stays) continue
      table[hole * WORDS] = table[j * WORDS] as number
      table[hole * WORDS + 1] = table[j * WORDS + 1] as number
      table[hole * WORDS + END] = table[j * WORDS + END] as number
      hole = j
    }
    table[hole * WORDS + END] = 0
    this.counts[segment]--
    this.count--
  }

  /** A table that the step below would hold at no more than BUILD_LOAD (~54 % full now) is rebuilt smaller. */
  private shrinkIfSparse (segment: number, nowS: number): void {
    const rung = this.rungs[segment] as number
    if (rung > 0 && (this.counts[segment] as number) <= slotsAt(segment, rung - 1) * BUILD_LOAD) this.resize(segment, nowS, rung)
  }

  /** Gives `segment` a new, empty table for `rung` (the caller frees the old one). */
  private allocate (segment: number, rung: number): void {
    const slots = slotsAt(segment, rung)
    const buffer = freeableBuffer(slots * WORDS * 4)
    this.buffers[segment] = buffer
    this.tables[segment] = new Int32Array(buffer)
    this.rungs[segment] = rung
    this.slots[segment] = slots
    this.growAt[segment] = Math.floor(slots * MAX_LOAD)
  }

  /**
   * Rebuilds one segment's table with its live entries (the expired ones are dropped) at the smallest
   * step, up to `maxRung`, that holds them at no more than BUILD_LOAD. Growing passes the next step
   * as `maxRung`: rounding of the sizes could otherwise skip a step.
   */
  private resize (segment: number, nowS: number, maxRung: number): void {
    const oldBuffer = this.buffers[segment] as ResizableBuffer
    const old = this.tables[segment] as Int32Array
    let live = 0
    for (let at = END; at < old.length; at += WORDS) if ((old[at] as number) > nowS) live++
    let rung = 0
    while (rung < maxRung && slotsAt(segment, rung) * BUILD_LOAD < live) rung++
    this.allocate(segment, rung)
    const table = this.tables[segment] as Int32Array
    const slots = this.slots[segment] as number
    for (let from = 0; from < old.length; from += WORDS) {
      const end = old[from + END] as number
      if (end <= nowS) continue
      const lo = old[from + 1] as number
      let slot = homeOf(lo, slots)
      while (table[slot * WORDS + END] !== 0) if (++slot === slots) slot = 0
      table[slot * WORDS] = old[from] as number
      table[slot * WORDS + 1] = lo
      table[slot * WORDS + END] = end
    }
    oldBuffer.resize(0)
    this.count += live - (this.counts[segment] as number)
    this.counts[segment] = live
  }
}
