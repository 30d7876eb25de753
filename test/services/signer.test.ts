// The Jitsi token signer: HS256 over app_secret's UTF-8 bytes, RS256 with kid; refuses unsafe scope.
import { createHmac, createPublicKey } from 'node:crypto'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { DEFAULT_POLICY } from '../../src/config/policy.js'
import { buildJitsiClaims, type JitsiClaims } from '../../src/services/claims.js'
import { UnsafeClaimsError, assertConcreteScope, createSigner } from '../../src/services/signer.js'
import { JITSI_KID, jitsiRsa, rs256Env } from '../fixtures/jitsi-rs256.js'
import { JITSI_SECRET, NOW_S, testConfig } from '../helper.js'

const CLAIMS: JitsiClaims = buildJitsiClaims({
  participant: { role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith' },
  template: DEFAULT_POLICY.provider,
  room: 'pdbvew3dbfzqgvvwoxuw7ohdtq',
  tenant: 'clinic-a',
  window: { iat: NOW_S, nbf: NOW_S + 2670, exp: NOW_S + 7200 },
  consent: false,
  jti: 'jti-signer-1'
}, { issuer: 'openemr_telehealth', audience: 'jitsi', subject: 'meet.jitsi', includeEmail: false })

/** true when the promise rejects with UnsafeClaimsError (tap's class matcher compares `name`, which this error leaves as "Error"). */
const rejectsUnsafe = async (p: Promise<unknown>) => await p.then(() => false, (err: unknown) => err instanceof UnsafeClaimsError)
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url')
const verifyAt = { currentDate: new Date((NOW_S + 3000) * 1000) }

t.test('HS256: exact header, exact payload, verifiable with the UTF-8 bytes of app_secret', async (t) => {
  const signer = createSigner(testConfig().jwt)
  t.equal(signer.alg, 'HS256')
  t.equal(signer.kid, undefined)
  const token = await signer.sign(CLAIMS)
  t.strictSame(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' })
  const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(JITSI_SECRET), { algorithms: ['HS256'], ...verifyAt })
  t.strictSame(protectedHeader, { alg: 'HS256', typ: 'JWT' })
  t.strictSame(payload, JSON.parse(JSON.stringify(CLAIMS)))
})

t.test('HS256 is byte-for-byte what Prosody computes: HMAC(app_secret bytes, header.payload)', async (t) => {
  const token = await createSigner(testConfig().jwt).sign(CLAIMS)
  const [h, p, s] = token.split('.')
  t.equal(h, b64('{"alg":"HS256","typ":"JWT"}'))
  t.strictSame(JSON.parse(Buffer.from(p as string, 'base64url').toString('utf8')), JSON.parse(JSON.stringify(CLAIMS)))
  t.equal(s, createHmac('sha256', Buffer.from(JITSI_SECRET, 'utf8')).update(`${h}.${p}`).digest('base64url'))
})

t.test('HS256: a secret that looks like base64 is NOT decoded', async (t) => {
  // helper secrets are base64url strings; decoding them would give a different (wrong) key
  const token = await createSigner(testConfig().jwt).sign(CLAIMS)
  await t.rejects(jwtVerify(token, Buffer.from(JITSI_SECRET, 'base64url'), { algorithms: ['HS256'], ...verifyAt }), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' })
  const nonAscii = 'ключ-для-jitsi-ключ-для-jitsi-0123456789'
  const t2 = await createSigner({ ...testConfig().jwt, appSecret: nonAscii }).sign(CLAIMS)
  await t.resolves(jwtVerify(t2, new TextEncoder().encode(nonAscii), { algorithms: ['HS256'], ...verifyAt }))
})

t.test('RS256: header carries kid; verifies with the public key only', async (t) => {
  const cfg = testConfig(rs256Env(t))
  const signer = createSigner(cfg.jwt)
  t.equal(signer.alg, 'RS256')
  t.equal(signer.kid, JITSI_KID)
  const token = await signer.sign(CLAIMS)
  t.strictSame(decodeProtectedHeader(token), { alg: 'RS256', typ: 'JWT', kid: JITSI_KID })
  const { payload } = await jwtVerify(token, jitsiRsa.publicKey, { algorithms: ['RS256'], ...verifyAt })
  t.strictSame(payload, JSON.parse(JSON.stringify(CLAIMS)))
  const derived = createPublicKey(cfg.jwt.privateKey as never)
  await t.resolves(jwtVerify(token, derived, { algorithms: ['RS256'], ...verifyAt }), 'the configured key is the generated one')
  await t.rejects(jwtVerify(token, new TextEncoder().encode(JITSI_SECRET), { algorithms: ['HS256'], ...verifyAt }), 'not an HS256 token')
})

t.test('tokens verify against the window: not before nbf, not at/after exp', async (t) => {
  const token = await createSigner(testConfig().jwt).sign(CLAIMS)
  const key = new TextEncoder().encode(JITSI_SECRET)
  await t.rejects(jwtVerify(token, key, { algorithms: ['HS256'], currentDate: new Date((CLAIMS.nbf - 1) * 1000) }), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  await t.rejects(jwtVerify(token, key, { algorithms: ['HS256'], currentDate: new Date(CLAIMS.exp * 1000) }), { code: 'ERR_JWT_EXPIRED' })
  await t.resolves(jwtVerify(token, key, { algorithms: ['HS256'], currentDate: new Date(CLAIMS.nbf * 1000) }))
})

const unsafe: Array<[string, Partial<JitsiClaims>]> = [
  ['room "*"', { room: '*' }],
  ['uppercase room', { room: 'Pdbvew3dbfzqgvvwoxuw7ohdtq' }],
  ['empty room', { room: '' }],
  ['room with a path', { room: 'clinic-a/room' }],
  ['percent-encoded room', { room: 'visit%2042' }],
  ['room starting with "-"', { room: '-room' }],
  ['room of 129 characters', { room: 'a'.repeat(129) }],
  ['sub "*"', { sub: '*' }],
  ['empty sub', { sub: '' }],
  ['uppercase sub', { sub: 'Clinic-A' }],
  ['empty window (exp == nbf)', { exp: NOW_S + 2670 }],
  ['inverted window', { exp: NOW_S }],
  ['fractional nbf', { nbf: NOW_S + 0.5 }],
  ['NaN exp', { exp: Number.NaN }],
  ['infinite exp', { exp: Number.POSITIVE_INFINITY }]
]

t.test('assertConcreteScope refuses wildcard, malformed scope and empty windows', async (t) => {
  for (const [name, patch] of unsafe) {
    let thrown: unknown
    try { assertConcreteScope({ ...CLAIMS, ...patch }) } catch (err) { thrown = err }
    t.ok(thrown instanceof UnsafeClaimsError, name)
  }
  t.doesNotThrow(() => assertConcreteScope(CLAIMS))
  t.doesNotThrow(() => assertConcreteScope({ ...CLAIMS, room: 'tele-pdbvew3dbfzqgvvwoxuw7ohdtq', sub: 'meet.jitsi' }), 'prefixed room, XMPP domain sub')
  t.doesNotThrow(() => assertConcreteScope({ ...CLAIMS, room: 'a'.repeat(128) }), '128 characters')
})

t.test('sign() refuses unsafe claims before signing anything, in both modes', async (t) => {
  const hs = createSigner(testConfig().jwt)
  const rs = createSigner(testConfig(rs256Env(t)).jwt)
  for (const [name, patch] of unsafe) {
    t.ok(await rejectsUnsafe(hs.sign({ ...CLAIMS, ...patch })), `HS256 ${name}`)
  }
  t.ok(await rejectsUnsafe(rs.sign({ ...CLAIMS, room: '*' })), 'RS256 room "*"')
  t.ok(await rejectsUnsafe(rs.sign({ ...CLAIMS, sub: '*' })), 'RS256 sub "*"')
})

t.test('sign() does not mutate the claims', async (t) => {
  const copy = structuredClone(CLAIMS)
  await createSigner(testConfig().jwt).sign(CLAIMS)
  t.strictSame(CLAIMS, copy)
})
