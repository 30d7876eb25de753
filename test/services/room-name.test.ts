// Room names (contract §5): prefix + base32lower(HMAC-SHA256(secret, tenant + "\n" + appointmentId))[0:26].
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import t from 'tap'
import { AppointmentIdSchema, TenantSchema } from '../../src/schemas/common.js'
import { ROOM_HASH_CHARS, ROOM_NAME_PATTERN, roomName } from '../../src/services/room-name.js'

// --- Reference implementations, written from the RFCs, sharing no code with src/ ----------------

/** RFC 2104 HMAC over SHA-256, built from the bare hash. */
function refHmacSha256 (key: Buffer, data: Buffer): Buffer {
  const block = 64
  let k = key.length > block ? createHash('sha256').update(key).digest() : key
  k = Buffer.concat([k, Buffer.alloc(block - k.length)])
  const ipad = Buffer.from(k.map((b) => b ^ 0x36))
  const opad = Buffer.from(k.map((b) => b ^ 0x5c))
  const inner = createHash('sha256').update(ipad).update(data).digest()
  return createHash('sha256').update(opad).update(inner).digest()
}

/** RFC 4648 §6 base32, with padding. */
function refBase32 (bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  let out = ''
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
    value &= (1 << bits) - 1
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  while (out.length % 8 !== 0) out += '='
  return out
}

function refRoom (secret: string, prefix: string, tenant: string, appointmentId: string): string {
  const mac = refHmacSha256(Buffer.from(secret, 'utf8'), Buffer.from(`${tenant}\n${appointmentId}`, 'utf8'))
  return prefix + refBase32(mac).slice(0, 26).toLowerCase()
}

const SECRET = 'k3Jq9vX2mN8pL5tR7wY1zA4bC6dE0fGh' // 32 bytes, test-only
const HASH = /^[a-z2-7]{26}$/u

t.test('the reference implementations match their RFC test vectors', async (t) => {
  // RFC 4648 §10
  const vectors: Array<[string, string]> = [['', ''], ['f', 'MY======'], ['fo', 'MZXQ===='], ['foo', 'MZXW6==='], ['foob', 'MZXW6YQ='], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI======']]
  for (const [input, expected] of vectors) t.equal(refBase32(Buffer.from(input)), expected, `base32(${input})`)
  // RFC 4231 test cases 2 and 6 (key longer than the block)
  t.equal(refHmacSha256(Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  t.equal(refHmacSha256(Buffer.alloc(131, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First')).toString('hex'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
})

t.test('known-answer vector', async (t) => {
  // Pinned so that any change of the derivation (which would move every existing room) is noticed.
  // Cross-checked with: printf 'clinic-a\npc_eid-12345' | openssl dgst -sha256 -hmac "$SECRET" -binary | base32
  t.equal(roomName(SECRET, '', 'clinic-a', 'pc_eid-12345'), refRoom(SECRET, '', 'clinic-a', 'pc_eid-12345'))
  t.equal(roomName(SECRET, '', 'clinic-a', 'pc_eid-12345'), 'pdbvew3dbfzqgvvwoxuw7ohdtq')
  t.equal(roomName(SECRET, '', '', 'pc_eid-12345'), refRoom(SECRET, '', '', 'pc_eid-12345'), 'tenant-less visit hashes the empty tenant')
  t.equal(roomName(SECRET, 'tele-', 'clinic-b', 'A.b:c_d-9'), refRoom(SECRET, 'tele-', 'clinic-b', 'A.b:c_d-9'))
  const unicodeSecret = 'clé-secrète-ünïcödé-🔑-0123456789ab'
  t.equal(roomName(unicodeSecret, '', 'clinic-a', 'x'), refRoom(unicodeSecret, '', 'clinic-a', 'x'), 'the secret is used as its UTF-8 bytes')
})

t.test('shape: 26 characters of [a-z2-7], after the prefix when there is one', async (t) => {
  t.equal(ROOM_HASH_CHARS, 26)
  const plain = roomName(SECRET, '', 'clinic-a', 'appt-1')
  t.match(plain, HASH)
  t.match(plain, ROOM_NAME_PATTERN)
  const prefixed = roomName(SECRET, 'emr-2026-', 'clinic-a', 'appt-1')
  t.ok(prefixed.startsWith('emr-2026-'))
  t.match(prefixed.slice('emr-2026-'.length), HASH)
  t.equal(prefixed.slice('emr-2026-'.length), plain, 'the prefix does not change the hash part')
  t.match(prefixed, ROOM_NAME_PATTERN)
  t.notMatch('*', ROOM_NAME_PATTERN)
  t.notMatch('ABCDEFGHIJKLMNOPQRSTUVWXYZ', ROOM_NAME_PATTERN)
})

t.test('deterministic, and keyed by the secret', async (t) => {
  t.equal(roomName(SECRET, '', 'clinic-a', 'appt-1'), roomName(SECRET, '', 'clinic-a', 'appt-1'))
  t.not(roomName(SECRET, '', 'clinic-a', 'appt-1'), roomName(SECRET + 'x', '', 'clinic-a', 'appt-1'))
  t.not(roomName(SECRET, '', 'clinic-a', 'appt-1'), roomName(SECRET, '', 'clinic-a', 'appt-2'))
  t.not(roomName(SECRET, '', 'clinic-a', 'appt-1'), roomName(SECRET, '', 'clinic-a', 'Appt-1'), 'appointment ids are case-sensitive')
})

t.test('tenant separation: the "\\n" delimiter cannot be forged because no input may contain it', async (t) => {
  t.not(roomName(SECRET, '', 'ab', 'c'), roomName(SECRET, '', 'a', 'bc'), 'no plain concatenation')
  t.not(roomName(SECRET, '', 'clinic-a', 'appt-1'), roomName(SECRET, '', 'clinic-b', 'appt-1'))
  t.not(roomName(SECRET, '', '', 'appt-1'), roomName(SECRET, '', 'clinic-a', 'appt-1'))
  // The contract's formula hashes tenant + "\n" + appointmentId, so ("a", "b\nc") and ("a\nb", "c")
  // would hash the same bytes. They never reach roomName: both schemas refuse a newline,
  // including a trailing one (JS `$` without the m flag does not match before "\n").
  for (const tenant of ['a\nb', 'clinic-a\n', '\nclinic-a']) t.notOk(TenantSchema.safeParse(tenant).success, JSON.stringify(tenant))
  for (const id of ['b\nc', 'appt-1\n', 'appt\r\n1']) t.notOk(AppointmentIdSchema.safeParse(id).success, JSON.stringify(id))
  t.ok(TenantSchema.safeParse('a').success)
  t.ok(AppointmentIdSchema.safeParse('c').success)
})

t.test('the name carries no trace of its inputs (no PHI)', async (t) => {
  const room = roomName(SECRET, '', 'clinic-a', 'pid-42-jose-nunez')
  for (const part of ['clinic', 'pid', '42', 'jose', 'nunez']) t.notOk(room.includes(part), part)
})

const TENANT_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-'.split('')
const tenantArb = fc.string({ unit: fc.constantFrom(...TENANT_CHARS), minLength: 1, maxLength: 63 })
const idArb = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 128 })
const prefixArb = fc.oneof(fc.constant(''), fc.string({ unit: fc.constantFrom(...TENANT_CHARS), minLength: 1, maxLength: 16 }))

t.test('property (10^5 cases): pattern, determinism, no cross-tenant collision', async (t) => {
  const seen = new Map<string, string>()
  fc.assert(fc.property(prefixArb, tenantArb, tenantArb, idArb, (prefix, t1, t2, id) => {
    const a = roomName(SECRET, prefix, t1, id)
    if (!a.startsWith(prefix) || !HASH.test(a.slice(prefix.length)) || !ROOM_NAME_PATTERN.test(a)) return false
    if (roomName(SECRET, prefix, t1, id) !== a) return false
    if (t1 !== t2 && roomName(SECRET, prefix, t2, id) === a) return false
    // Globally: a hash part maps back to one (tenant, id) across the whole run.
    const key = `${t1}\n${id}`
    const hash = a.slice(prefix.length)
    const previous = seen.get(hash)
    if (previous !== undefined && previous !== key) return false
    seen.set(hash, key)
    return true
  }), { numRuns: 100_000 })
  t.pass('100000 runs')
})

t.test('property: matches the reference implementation', async (t) => {
  fc.assert(fc.property(prefixArb, fc.oneof(fc.constant(''), tenantArb), idArb, fc.string({ minLength: 1, maxLength: 80 }),
    (prefix, tenant, id, secret) => roomName(secret, prefix, tenant, id) === refRoom(secret, prefix, tenant, id)), { numRuns: 2000 })
  t.pass('2000 runs')
})
