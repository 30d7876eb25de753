// Single-use `jti` store. In memory for one replica; src/auth/redis-replay-store.ts when scaled out.
import { createHash, randomBytes } from 'node:crypto'

export interface ReplayStore {
  /** Reserves `key` for `ttlMs`. true: first use; false: seen before. Rejects when the store cannot answer. */
  claimOnce (key: string, ttlMs: number): Promise<boolean>
  /** Resolves when the store answers (readiness). */
  ping (): Promise<void>
  close (): Promise<void>
}

const MIN_CAPACITY = 1024
/** Grow past 70 % full; shrink below a quarter of that, so memory follows the live window. */
const MAX_LOAD = 0.7

/** Fingerprint pairs (hi, lo) of the reservations ending in one second, in a growable Int32Array. */
interface SecondList { data: Int32Array, length: number }

/**
 * Process-local store: correct only with one replica (Helm renders Redis for more).
 *
 * A jti is remembered for exp + 30 s, so at a high request rate the store holds the last ~90 s of
 * traffic: ~500 000 entries at 6 000 requests/s. As a Map of strings that was ~120 bytes and three
 * heap objects per entry, and the garbage collector marked them all again and again (~10 % of the
 * CPU and most of the RSS growth in `npm run bench -- --soak`, docs/performance.md). Here an entry is
 * a 64-bit keyed fingerprint and its end time in typed arrays (an open-addressing table with linear
 * probing and backward-shift deletion): ~40 bytes and nothing for the collector to walk.
 * Fingerprints are SHA-256(per-process random salt ‖ key), so nobody can aim two keys at the same
 * one; by chance two keys share a fingerprint with probability ~n / 2^64 (1e-13 at a million live
 * entries), which would refuse one legitimate request as a replay — never accept a replay.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly salt = randomBytes(32)
  private capacity = MIN_CAPACITY
  private used = new Uint8Array(MIN_CAPACITY)
  private hi = new Int32Array(MIN_CAPACITY)
  private lo = new Int32Array(MIN_CAPACITY)
  /** when each reservation ends, ms */
  private until = new Float64Array(MIN_CAPACITY)
  private count = 0
  /**
   * Fingerprints by the second their reservation ends (ceil(until / 1000)), so a sweep touches the
   * expired entries and one number per live second, never every live entry.
   */
  private readonly bySecond = new Map<number, SecondList>()
  private readonly nowMs: () => number
  private opsSinceSweep = 0

  constructor (nowMs: () => number = Date.now) {
    this.nowMs = nowMs
  }

  async claimOnce (key: string, ttlMs: number): Promise<boolean> {
    const now = this.nowMs()
    if (++this.opsSinceSweep >= 1024) this.sweep(now)
    const digest = createHash('sha256').update(this.salt).update(key, 'utf8').digest()
    const hi = digest.readInt32LE(0)
    const lo = digest.readInt32LE(4)
    const until = now + Math.max(ttlMs, 1)
    let slot = this.find(hi, lo)
    if (slot >= 0) {
      if ((this.until[slot] as number) > now) return false
      this.until[slot] = until // expired but not swept yet: reserve it again
    } else {
      if (this.count + 1 > this.capacity * MAX_LOAD) this.resize(this.capacity * 2)
      slot = this.freeSlot(lo)
      this.used[slot] = 1
      this.hi[slot] = hi
      this.lo[slot] = lo
      this.until[slot] = until
      this.count++
    }
    this.remember(until, hi, lo)
    return true
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.allocate(MIN_CAPACITY)
    this.count = 0
    this.bySecond.clear()
  }

  get size (): number {
    return this.count
  }

  /** Drops expired entries; amortised over inserts so memory follows the live window. */
  sweep (now = this.nowMs()): void {
    this.opsSinceSweep = 0
    for (const [second, list] of this.bySecond) {
      // every entry in this second's list expired at or before second * 1000
      if (second * 1000 > now) continue
      for (let j = 0; j < list.length; j += 2) {
        const slot = this.find(list.data[j] as number, list.data[j + 1] as number)
        // an entry reserved again after expiring sits in a later second too: keep it
        if (slot >= 0 && (this.until[slot] as number) <= now) this.remove(slot)
      }
      this.bySecond.delete(second)
    }
    let target = this.capacity
    while (target > MIN_CAPACITY && this.count < (target / 2) * MAX_LOAD / 2) target /= 2
    if (target !== this.capacity) this.resize(target)
  }

  private find (hi: number, lo: number): number {
    const mask = this.capacity - 1
    for (let slot = lo & mask; this.used[slot] === 1; slot = (slot + 1) & mask) {
      if (this.hi[slot] === hi && this.lo[slot] === lo) return slot
    }
    return -1
  }

  private freeSlot (lo: number): number {
    const mask = this.capacity - 1
    let slot = lo & mask
    while (this.used[slot] === 1) slot = (slot + 1) & mask
    return slot
  }

  /** Backward-shift deletion: later entries of the probe run move up, so no tombstones are needed. */
  private remove (slot: number): void {
    const mask = this.capacity - 1
    let hole = slot
    for (let j = (hole + 1) & mask; this.used[j] === 1; j = (j + 1) & mask) {
      const home = (this.lo[j] as number) & mask
      // the entry at j stays when its home slot lies cyclically in (hole, j]
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j
      if (stays) continue
      this.hi[hole] = this.hi[j] as number
      this.lo[hole] = this.lo[j] as number
      this.until[hole] = this.until[j] as number
      hole = j
    }
    this.used[hole] = 0
    this.count--
  }

  private remember (until: number, hi: number, lo: number): void {
    const second = Math.ceil(until / 1000)
    let list = this.bySecond.get(second)
    if (list === undefined) {
      list = { data: new Int32Array(64), length: 0 }
      this.bySecond.set(second, list)
    } else if (list.length + 2 > list.data.length) {
      const grown = new Int32Array(list.data.length * 2)
      grown.set(list.data)
      list.data = grown
    }
    list.data[list.length++] = hi
    list.data[list.length++] = lo
  }

  private allocate (capacity: number): void {
    this.capacity = capacity
    this.used = new Uint8Array(capacity)
    this.hi = new Int32Array(capacity)
    this.lo = new Int32Array(capacity)
    this.until = new Float64Array(capacity)
  }

  /** Rehash into `capacity` slots (a power of two), keeping every entry, expired ones included. */
  private resize (capacity: number): void {
    const { used, hi, lo, until } = this
    this.allocate(capacity)
    for (let slot = 0; slot < used.length; slot++) {
      if (used[slot] !== 1) continue
      const target = this.freeSlot(lo[slot] as number)
      this.used[target] = 1
      this.hi[target] = hi[slot] as number
      this.lo[target] = lo[slot] as number
      this.until[target] = until[slot] as number
    }
  }
}
