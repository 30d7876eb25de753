// The typed-array MemoryReplayStore must behave exactly like the plain Map store it replaced
// (kept below as the model): same answer to every claim, same size after every step, through
// growth, shrinking, sweeps, re-claims of expired keys and clock jumps.
import fc from 'fast-check'
import t from 'tap'
import { MemoryReplayStore } from '../../src/auth/replay-store.js'

class ModelStore {
  private readonly entries = new Map<string, number>()
  private readonly bySecond = new Map<number, string[]>()
  private ops = 0
  constructor (private readonly nowMs: () => number) {}
  claimOnce (key: string, ttlMs: number): boolean {
    const now = this.nowMs()
    if (++this.ops >= 1024) this.sweep(now)
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

  get size (): number { return this.entries.size }
  sweep (now = this.nowMs()): void {
    this.ops = 0
    for (const [second, keys] of this.bySecond) {
      if (second * 1000 > now) continue
      for (const key of keys) {
        const e = this.entries.get(key)
        if (e !== undefined && e <= now) this.entries.delete(key)
      }
      this.bySecond.delete(second)
    }
  }
}

type Op = { kind: 'claim', key: number, ttl: number } | { kind: 'advance', ms: number } | { kind: 'sweep' } | { kind: 'burst', from: number, n: number, ttl: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('claim' as const), key: fc.integer({ min: 0, max: 3000 }), ttl: fc.oneof(fc.integer({ min: -10, max: 3000 }), fc.constant(90_000)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.constant(100_000)) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), from: fc.integer({ min: 0, max: 5000 }), n: fc.integer({ min: 100, max: 2500 }), ttl: fc.integer({ min: 1, max: 5000 }) }) }
)

t.test('property: same answers and sizes as the Map model', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 120 }), async (ops) => {
    let now = 1_000_000
    const store = new MemoryReplayStore(() => now)
    const model = new ModelStore(() => now)
    for (const o of ops) {
      if (o.kind === 'advance') now += o.ms
      else if (o.kind === 'sweep') { store.sweep(); model.sweep() } else {
        const claims = o.kind === 'claim' ? [[o.key, o.ttl]] : Array.from({ length: o.n }, (_, i) => [o.from + i, o.ttl])
        for (const [key, ttl] of claims) {
          if (await store.claimOnce(`client\n${key as number}`, ttl as number) !== model.claimOnce(`client\n${key as number}`, ttl as number)) return false
        }
      }
      if (store.size !== model.size) return false
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
  t.equal(await store.claimOnce(`c\n${299}-5`, 90_000), false, 'a recent key is still remembered')
})
