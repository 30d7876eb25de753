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
    this.entries.set(key, now + Math.max(ttlMs, 1))
    return true
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {
    this.entries.clear()
  }

  get size (): number {
    return this.entries.size
  }

  /** Drops expired entries; amortised over inserts so memory follows the live window. */
  sweep (now = this.nowMs()): void {
    this.opsSinceSweep = 0
    for (const [key, expiresAt] of this.entries) if (expiresAt <= now) this.entries.delete(key)
  }
}
