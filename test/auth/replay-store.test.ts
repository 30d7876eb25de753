// The in-memory single-use jti store: first claim wins, entries expire, memory is swept.
import t from 'tap'
import { MemoryReplayStore, type ReplayStore } from '../../src/auth/replay-store.js'

function clock (start = 1_000_000) {
  let now = start
  return { now: () => now, advance: (ms: number) => { now += ms } }
}

t.test('claimOnce: true the first time, false for every later use inside the TTL', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('client:jti-1', 60_000), true)
  t.equal(await store.claimOnce('client:jti-1', 60_000), false)
  c.advance(59_999)
  t.equal(await store.claimOnce('client:jti-1', 60_000), false, 'one ms before expiry')
  t.equal(await store.claimOnce('client:jti-2', 60_000), true, 'another key is independent')
  t.equal(store.size, 2)
})

t.test('a replay does not extend the reservation', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('k', 1000), true)
  c.advance(900)
  t.equal(await store.claimOnce('k', 1000), false)
  c.advance(100)
  t.equal(await store.claimOnce('k', 1000), true, 'expired exactly at first claim + ttl')
})

t.test('an entry expires exactly at now + ttl (injected clock)', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  await store.claimOnce('k', 5000)
  c.advance(4999)
  t.equal(await store.claimOnce('k', 5000), false)
  c.advance(1)
  t.equal(await store.claimOnce('k', 5000), true, 'claimable again once expired')
  t.equal(await store.claimOnce('k', 5000), false, 'and single-use again')
})

t.test('ttl <= 0 still reserves the key for at least 1 ms (to the end of that second)', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('zero', 0), true)
  t.equal(await store.claimOnce('zero', 0), false)
  t.equal(await store.claimOnce('neg', -5000), true)
  t.equal(await store.claimOnce('neg', -5000), false)
  c.advance(1)
  t.equal(await store.claimOnce('zero', 0), false, 'now + 1 ms rounds up to the next whole second')
  c.advance(998)
  t.equal(await store.claimOnce('zero', 0), false)
  c.advance(1)
  t.equal(await store.claimOnce('zero', 0), true)
  t.equal(await store.claimOnce('neg', 0), true)
})

t.test('expiry rounds up to the whole second: a reservation can end up to 1 s late, never early', async (t) => {
  const c = clock(1_000_400)
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('k', 1000), true)
  c.advance(1000)
  t.equal(await store.claimOnce('k', 1000), false, 'now + ttl has passed, but not the end of that second')
  c.advance(599)
  t.equal(await store.claimOnce('k', 1000), false, '1 ms before the whole second')
  c.advance(1)
  t.equal(await store.claimOnce('k', 1000), true, 'free again at the whole second after now + ttl')
})

t.test('an infinite ttl is remembered; a NaN ttl counts as the 1 ms minimum', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('forever', Infinity), true)
  t.equal(await store.claimOnce('nan', NaN), true)
  t.equal(await store.claimOnce('nan', NaN), false)
  c.advance(1000)
  t.equal(await store.claimOnce('nan', NaN), true)
  c.advance(50 * 365 * 86_400_000)
  store.sweep()
  t.equal(await store.claimOnce('forever', Infinity), false, '50 years later')
})

t.test('a clock stepping back keeps reservations, however far', async (t) => {
  const c = clock(1_700_000_000_000)
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('k', 60_000), true)
  c.advance(-3_600_000)
  t.equal(await store.claimOnce('k', 60_000), false, 'an hour back')
  c.advance(-30 * 86_400_000)
  t.equal(await store.claimOnce('k', 60_000), false, 'a month back, before the store was made')
  t.equal(await store.claimOnce('then', 60_000), true)
  t.equal(await store.claimOnce('then', 60_000), false)
  c.advance(30 * 86_400_000 + 3_600_000 + 60_000)
  t.equal(await store.claimOnce('k', 60_000), true, 'back to the present, after the reservation')
  t.equal(await store.claimOnce('then', 60_000), true)
})

t.test('sweep drops expired entries only', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  await store.claimOnce('short', 1000)
  await store.claimOnce('long', 10_000)
  t.equal(store.size, 2)
  c.advance(1000)
  store.sweep()
  t.equal(store.size, 1, 'short is gone (expiresAt <= now)')
  t.equal(await store.claimOnce('long', 10_000), false, 'long is still remembered')
  store.sweep(c.now() + 10_000)
  t.equal(store.size, 0, 'sweep with an explicit instant')
})

t.test('sweeping is amortised over claims: expired entries go within one pass of the cursor', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  for (let i = 0; i < 1000; i++) await store.claimOnce(`old-${i}`, 1000)
  t.equal(store.size, 1000)
  c.advance(2000)
  let claims = 0
  while (store.size > claims && claims < 5000) await store.claimOnce(`new-${claims++}`, 1000)
  t.equal(store.size, claims, 'only the new keys are left')
  // the smallest tables have ~37 000 slots, 32 slots a claim: one pass is ~1 200 claims
  t.ok(claims <= 2048, `the 1 000 expired keys were gone after ${claims} claims`)
})

t.test('memory follows the live window: tables shrink once a burst has expired', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  const empty = store.byteLength
  for (let i = 0; i < 200_000; i++) await store.claimOnce(`burst-${i}`, 1000)
  const full = store.byteLength
  t.ok(full <= 200_000 * 20, `${full} bytes for 200 000 entries (<= 20 a piece)`)
  c.advance(2000)
  // the cursor alone: one pass over ~260 000 slots is ~8 000 claims
  for (let i = 0; i < 20_000; i++) await store.claimOnce(`next-${i}`, 60_000)
  t.equal(store.size, 20_000)
  t.ok(store.byteLength <= empty + 20_000 * 24, `shrunk to ${store.byteLength} bytes by claims alone`)
  c.advance(60_000)
  store.sweep()
  t.equal(store.size, 0)
  t.equal(store.byteLength, empty, 'an explicit sweep of an expired store leaves the smallest tables')
})

t.test('concurrent claims of the same key: exactly one wins', async (t) => {
  const store = new MemoryReplayStore(() => 0)
  const results = await Promise.all(Array.from({ length: 50 }, () => store.claimOnce('race', 1000)))
  t.equal(results.filter((r) => r).length, 1)
})

t.test('ping answers; close forgets everything', async (t) => {
  const store: ReplayStore = new MemoryReplayStore(() => 0)
  await t.resolves(store.ping())
  await store.claimOnce('k', 1000)
  await store.close()
  t.equal((store as MemoryReplayStore).size, 0)
  t.equal(await store.claimOnce('k', 1000), true)
})

t.test('defaults to the real clock', async (t) => {
  const store = new MemoryReplayStore()
  t.equal(await store.claimOnce('k', 60_000), true)
  t.equal(await store.claimOnce('k', 60_000), false)
})

t.test('a shared fingerprint can only refuse: the second key looks like a replay while the first is live', async (t) => {
  const crypto = await import('node:crypto')
  // every 'twin-…' key gets the same digest, as a 2^-64 chance would have it
  const twin = String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff))
  const { MemoryReplayStore: Store } = await t.mockImport<typeof import('../../src/auth/replay-store.js')>('../../src/auth/replay-store.js', {
    'node:crypto': { ...crypto, hash: (algorithm: string, data: string, encoding: 'binary') => data.endsWith('twin-a') || data.endsWith('twin-b') ? twin : crypto.hash(algorithm, data, encoding) }
  })
  const c = clock()
  const store = new Store(c.now)
  t.equal(await store.claimOnce('twin-a', 5000), true)
  t.equal(await store.claimOnce('twin-b', 5000), false, 'refused: looks like a replay of twin-a')
  t.equal(await store.claimOnce('other', 5000), true)
  c.advance(5000)
  t.equal(await store.claimOnce('twin-b', 5000), true, 'accepted once twin-a has expired')
  t.equal(await store.claimOnce('twin-a', 5000), false)
})
