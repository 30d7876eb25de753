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

t.test('ttl <= 0 still reserves the key for at least 1 ms', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  t.equal(await store.claimOnce('zero', 0), true)
  t.equal(await store.claimOnce('zero', 0), false)
  t.equal(await store.claimOnce('neg', -5000), true)
  t.equal(await store.claimOnce('neg', -5000), false)
  c.advance(1)
  t.equal(await store.claimOnce('zero', 0), true)
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

t.test('sweeping is amortised over inserts: memory follows the live window', async (t) => {
  const c = clock()
  const store = new MemoryReplayStore(c.now)
  for (let i = 0; i < 1000; i++) await store.claimOnce(`old-${i}`, 1000)
  t.equal(store.size, 1000)
  c.advance(2000)
  for (let i = 0; i < 23; i++) await store.claimOnce(`new-${i}`, 1000)
  t.equal(store.size, 1023, 'no sweep before the 1024th operation')
  await store.claimOnce('new-23', 1000)
  t.equal(store.size, 24, 'the 1024th operation swept the 1000 expired keys before inserting')
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
