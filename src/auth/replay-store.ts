// Single-use `jti` store. In memory for one replica; src/auth/redis-replay-store.ts when scaled out.

export interface ReplayStore {
  /** Reserves `key` for `ttlMs`. true: first use; false: seen before. Rejects when the store cannot answer. */
  claimOnce (key: string, ttlMs: number): Promise<boolean>
  /** Resolves when the store answers (readiness). */
  ping (): Promise<void>
  close (): Promise<void>
}

/** Process-local store: correct only with one replica (Helm renders Redis for more). */
export class MemoryReplayStore implements ReplayStore {
  private readonly entries = new Map<string, number>()
  /**
   * Keys by the second their reservation ends (ceil(expiresAt / 1000)), so a sweep touches the
   * expired keys and one number per live second, not every live key: at 10 000 claims/s and a 90 s
   * window, walking the whole map every 1024 claims cost ~10 % of the CPU (docs/performance.md).
   */
  private readonly bySecond = new Map<number, string[]>()
  private readonly nowMs: () => number
  private opsSinceSweep = 0

  constructor (nowMs: () => number = Date.now) {
    this.nowMs = nowMs
  }

  async claimOnce (key: string, ttlMs: number): Promise<boolean> {
    const now = this.nowMs()
    if (++this.opsSinceSweep >= 1024) this.sweep(now)
    const expiresAt = this.entries.get(key)
    if (expiresAt !== undefined && expiresAt > now) return false
    const until = now + Math.max(ttlMs, 1)
    this.entries.set(key, until)
    const second = Math.ceil(until / 1000)
    const keys = this.bySecond.get(second)
    if (keys === undefined) this.bySecond.set(second, [key])
    else keys.push(key)
    return true
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.entries.clear()
    this.bySecond.clear()
  }

  get size (): number {
    return this.entries.size
  }

  /** Drops expired entries; amortised over inserts so memory follows the live window. */
  sweep (now = this.nowMs()): void {
    this.opsSinceSweep = 0
    for (const [second, keys] of this.bySecond) {
      // every key in this second's list expired at or before second * 1000
      if (second * 1000 > now) continue
      for (const key of keys) {
        const expiresAt = this.entries.get(key)
        // a key claimed again after expiring sits in a later second too: keep it
        if (expiresAt !== undefined && expiresAt <= now) this.entries.delete(key)
      }
      this.bySecond.delete(second)
    }
  }
}
