// One ioredis connection per process, tuned to fail fast: a slow or absent Redis must turn into
// a 503 within a second (attack catalogue I-95), never a pile-up of waiting requests.
import type { Redis } from 'ioredis'

/** Up to three Redis calls sit on a request's path (IP limit, failed-auth budget, replay): 3 × 300 ms < 1 s. */
export const REDIS_COMMAND_TIMEOUT_MS = 300
const PROBE_INTERVAL_MS = 250

/** ioredis is imported on first use: without REDIS_URL it is never loaded (~60-90 ms of cold start). */
export async function createRedis (url: string): Promise<Redis> {
  const { Redis } = await import('ioredis')
  return new Redis(url, {
    connectTimeout: 500,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // Without a connection, commands fail at once instead of queueing until a timeout.
    enableOfflineQueue: false,
    retryStrategy: () => 500,
    lazyConnect: false
  })
}

/**
 * A latch fed by a background PING: once Redis stops answering, requests that need it are
 * refused at once (503) instead of each waiting out its command timeouts.
 */
export class RedisHealth {
  private healthy = false
  private readonly timer: NodeJS.Timeout
  private readonly redis: Redis

  constructor (redis: Redis) {
    this.redis = redis
    this.timer = setInterval(() => { void this.probe() }, PROBE_INTERVAL_MS)
    this.timer.unref()
    void this.probe()
  }

  get isHealthy (): boolean {
    return this.healthy
  }

  async probe (): Promise<boolean> {
    try {
      await this.redis.ping()
      this.healthy = true
    } catch {
      this.healthy = false
    }
    return this.healthy
  }

  stop (): void {
    clearInterval(this.timer)
  }
}
