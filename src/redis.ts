// One ioredis connection per process, tuned to fail fast: a slow or absent Redis must turn into
// a 503 within a second (attack catalogue I-95), never a pile-up of waiting requests.
import { Redis } from 'ioredis'

export function createRedis (url: string): Redis {
  return new Redis(url, {
    connectTimeout: 500,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    // Without a connection, commands fail at once instead of queueing until a timeout.
    enableOfflineQueue: false,
    retryStrategy: () => 500,
    lazyConnect: false
  })
}
