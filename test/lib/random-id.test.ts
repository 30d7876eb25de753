// Pooled random ids: right length and alphabet, never repeated, across pool refills.
import t from 'tap'
import { randomId } from '../../src/lib/random-id.js'

t.test('16 bytes → 22 base64url characters, unique over many refills', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 20_000; i++) seen.add(randomId())
  t.equal(seen.size, 20_000)
  for (const id of [...seen].slice(0, 100)) t.match(id, /^[A-Za-z0-9_-]{22}$/u)
})

t.test('other sizes, and the bounds', async (t) => {
  t.equal(Buffer.from(randomId(32), 'base64url').length, 32)
  t.equal(Buffer.from(randomId(1), 'base64url').length, 1)
  t.equal(Buffer.from(randomId(256), 'base64url').length, 256)
  t.throws(() => randomId(0), RangeError)
  t.throws(() => randomId(257), RangeError)
  t.throws(() => randomId(1.5), RangeError)
})

t.test('bytes are spread (no stuck or zeroed pool)', async (t) => {
  const counts = new Array(256).fill(0) as number[]
  for (let i = 0; i < 4000; i++) for (const b of Buffer.from(randomId(), 'base64url')) counts[b] = (counts[b] as number) + 1
  // 64 000 bytes: each value expected 250 times; a zeroed or repeating pool would break this badly
  t.ok(Math.max(...counts) < 400 && Math.min(...counts) > 130, `byte counts between ${Math.min(...counts)} and ${Math.max(...counts)}`)
})
