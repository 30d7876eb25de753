// Shared single-use jti store for more than one replica: one atomic SET NX PX per assertion.
import type { Redis } from 'ioredis'
import type { ReplayStore } from './replay-store.js'

export const REPLAY_KEY_PREFIX = 'jts:jti:'

export class RedisReplayStore implements ReplayStore {
  private readonly redis: Redis
  constructor (redis: Redis) {
    this.redis = redis
  }

  async claimOnce (key: string, ttlMs: number): Promise<boolean> {
    // NX makes "check and remember" one step, so 50 racing copies on 5 pods yield exactly one OK.
    const result = await this.redis.set(REPLAY_KEY_PREFIX + key, '1', 'PX', Math.max(Math.ceil(ttlMs), 1), 'NX')
    return result === 'OK'
  }

  async ping (): Promise<void> {
    await this.redis.ping()
  }

  async close (): Promise<void> {
    // The connection is owned by app.ts (it is shared with the rate limiter).
  }
}
