// The typed-array MemoryReplayStore must behave like the plain Map store it replaced (kept below as
// the model): the same answer to every claim, through growth, shrinking, sweeps, re-claims of
// expired keys and clock jumps. Two differences are by design and written into the model:
// - A reservation ends at the whole second after now + ttl: the store keeps end times in seconds,
//   rounded up, which can only refuse a replay a little longer (src/auth/replay-store.ts).
// - Expired entries leave on the store's own schedule (a cursor sweeping a few slots per claim, or a
//   new key taking an expired entry's slot), so between explicit sweeps its size is only bounded:
//   at least the live entries, at most everything the model still holds. After sweep() both hold
//   exactly the live entries.
import fc from 'fast-check'
import t from 'tap'
import { MemoryReplayStore } from '../../src/auth/replay-store.js'

class ModelStore {
  private readonly entries = new Map<string, number>()
  constructor (private readonly nowMs: () => number) {}
  claimOnce (key: string, ttlMs: number): boolean {
    const now = this.nowMs()
    const until = this.entries.get(key)
    if (until !== undefined && until > now) return false
    this.entries.set(key, Math.ceil((now + Math.max(ttlMs, 1)) / 1000) * 1000)
    return true
  }

  get held (): number { return this.entries.size }
  live (now = this.nowMs()): number {
    let n = 0
    for (const until of this.entries.values()) if (until > now) n++
    return n
  }

  sweep (now = this.nowMs()): void {
    for (const [key, until] of this.entries) if (until <= now) this.entries.delete(key)
  }
}

type Op = { kind: 'claim', key: number, ttl: number } | { kind: 'advance', ms: number } | { kind: 'sweep' } | { kind: 'burst', from: number, n: number, ttl: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('claim' as const), key: fc.integer({ min: 0, max: 3000 }), ttl: fc.oneof(fc.integer({ min: -10, max: 3000 }), fc.constant(90_000)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.constant(100_000)) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), from: fc.integer({ min: 0, max: 5000 }), n: fc.integer({ min: 100, max: 2500 }), ttl: fc.integer({ min: 1, max: 5000 }) }) }
)

t.test('property: same answers as the Map model, size between its live and held entries', async (t) => {
  const smallest = new MemoryReplayStore(() => 0).byteLength
  // the clock starts anywhere inside a second, so rounding up to the whole second is exercised
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 999 }), fc.array(op, { maxLength: 120 }), async (startMs, ops) => {
    let now = 1_000_000 + startMs
    const store = new MemoryReplayStore(() => now)
    const model = new ModelStore(() => now)
    for (const o of ops) {
      if (o.kind === 'advance') now += o.ms
      else if (o.kind === 'sweep') {
        store.sweep()
        model.sweep()
        if (store.size !== model.held) return false
        // and the tables shrank to fit: at least ~half full, beyond the smallest ones
        if (store.byteLength > smallest + 12 * store.size * 2) return false
      } else {
        const claims = o.kind === 'claim' ? [[o.key, o.ttl]] : Array.from({ length: o.n }, (_, i) => [o.from + i, o.ttl])
        for (const [key, ttl] of claims) {
          if (await store.claimOnce(`client\n${key as number}`, ttl as number) !== model.claimOnce(`client\n${key as number}`, ttl as number)) return false
        }
      }
      if (store.size < model.live() || store.size > model.held) return false
    }
    return true
  }), { numRuns: 300 })
  t.pass('300 random operation sequences agree')
})

t.test('a long run at a steady rate: memory follows the live window, no replay ever accepted', async (t) => {
  let now = 1_000_000
  const store = new MemoryReplayStore(() => now)
  // 200 claims per simulated second for 300 s, each remembered 90 s
  let refusedFirstUse = 0
  let acceptedReplay = 0
  for (let s = 0; s < 300; s++) {
    for (let i = 0; i < 200; i++) if (!await store.claimOnce(`c\n${s}-${i}`, 90_000)) refusedFirstUse++
    if (await store.claimOnce(`c\n${s}-0`, 90_000)) acceptedReplay++
    now += 1000
  }
  t.equal(refusedFirstUse, 0, 'every first use accepted')
  t.equal(acceptedReplay, 0, 'every replay refused')
  t.ok(store.size <= 200 * 92 + 1024, `size ${store.size} stays near 90 s of claims`)
  const smallest = new MemoryReplayStore(() => now).byteLength
  t.ok(store.byteLength <= Math.max(smallest, 200 * 90 * 20), `${store.byteLength} bytes: <= 20 per live entry, or the smallest tables`)
  t.equal(await store.claimOnce(`c\n${299}-5`, 90_000), false, 'a recent key is still remembered')
})
