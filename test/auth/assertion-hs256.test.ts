// The HS256 fast path (node:crypto HMAC) must answer exactly what jose's jwtVerify answers:
// same acceptance, same payload, same failure reason, for every claim shape and clock position.
import { createHmac, createSecretKey } from 'node:crypto'
import fc from 'fast-check'
import { SignJWT, decodeJwt } from 'jose'
import t from 'tap'
import { verifyHs256, verifyWithJose, type JwsCheck } from '../../src/auth/assertion.js'
import type { ClientKey } from '../../src/config/clients.js'
import { AuthError } from '../../src/errors.js'
import { EMR_SECRET, NOW_MS, NOW_S, OTHER_SECRET } from '../helper.js'

const KEY: ClientKey = { kid: 'k1', alg: 'HS256', key: createSecretKey(Buffer.from(EMR_SECRET, 'utf8')) }
const CHECK: JwsCheck = { issuer: 'openemr-main', audience: 'jitsi-token-service', nowMs: NOW_MS }
const BASE: Record<string, unknown> = {
  iss: 'openemr-main', sub: 'emr-user-1', aud: 'jitsi-token-service', iat: NOW_S, exp: NOW_S + 60,
  jti: 'parity-jti-0000000001', htm: 'POST', htu: '/v1/visits', body_sha256: 'x'.repeat(43)
}
const DELETE = Symbol('delete')

async function token (claims: Record<string, unknown>, secret = EMR_SECRET): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'emr-request+jwt', kid: 'k1' }).sign(new TextEncoder().encode(secret))
}

/** For payloads jose refuses to sign (1e400 parses to Infinity). */
function rawToken (payloadJson: string): string {
  const b64 = (x: string) => Buffer.from(x).toString('base64url')
  const input = `${b64('{"alg":"HS256","typ":"emr-request+jwt","kid":"k1"}')}.${b64(payloadJson)}`
  return `${input}.${createHmac('sha256', Buffer.from(EMR_SECRET, 'utf8')).update(input).digest('base64url')}`
}

const outcome = async (f: () => unknown): Promise<string> => {
  try {
    return `ok ${JSON.stringify(await f())}`
  } catch (err) {
    return err instanceof AuthError ? err.reason : `unexpected ${String(err)}`
  }
}

async function both (jwt: string, check: JwsCheck = CHECK): Promise<[string, string]> {
  const segments = jwt.split('.') as [string, string, string]
  return [
    await outcome(() => verifyHs256(segments, KEY.key, decodeJwt(jwt), check)),
    await outcome(async () => await verifyWithJose(jwt, KEY, check))
  ]
}

t.test('fixed cases: same answer as jose', async (t) => {
  const cases: Array<[string, Record<string, unknown>, string?]> = [
    ['valid', {}],
    ['wrong key', {}, OTHER_SECRET],
    ['no aud', { aud: DELETE }],
    ['no jti', { jti: DELETE }],
    ['no exp', { exp: DELETE }],
    ['no iat', { iat: DELETE }],
    ['no sub', { sub: DELETE }],
    ['no aud and no sub (aud is checked first)', { aud: DELETE, sub: DELETE }],
    ['other iss', { iss: 'patient-portal' }],
    ['aud array with ours', { aud: ['other', 'jitsi-token-service'] }],
    ['aud array without ours', { aud: ['other'] }],
    ['aud number', { aud: 7 }],
    ['iat string', { iat: String(NOW_S) }],
    ['nbf in the future beyond leeway', { nbf: NOW_S + 31 }],
    ['nbf at the leeway edge', { nbf: NOW_S + 30 }],
    ['nbf null', { nbf: null }],
    ['exp string', { exp: String(NOW_S + 60) }],
    ['exp at now - leeway', { exp: NOW_S - 30 }],
    ['exp one second later', { exp: NOW_S - 29 }],
    ['exp and nbf both bad (nbf first)', { exp: NOW_S - 100, nbf: NOW_S + 100 }],
    ['fractional times', { iat: NOW_S + 0.5, exp: NOW_S + 60.5 }]
  ]
  for (const [name, patch, secret] of cases) {
    const claims = { ...BASE }
    for (const [k, v] of Object.entries(patch)) { if (v === DELETE) delete claims[k]; else claims[k] = v }
    const [fast, jose] = await both(await token(claims, secret))
    t.equal(fast, jose, name)
  }
  for (const [name, json] of [
    ['exp 1e400 (Infinity)', JSON.stringify(BASE).replace(/"exp":\d+/u, '"exp":1e400')],
    ['nbf -1e400', JSON.stringify({ ...BASE, nbf: 0 }).replace(/"nbf":0/u, '"nbf":-1e400')],
    ['duplicate exp (last wins on both paths)', JSON.stringify(BASE).replace(/\}$/u, `,"exp":${NOW_S - 100}}`)]
  ] as const) {
    const [fast, jose] = await both(rawToken(json))
    t.equal(fast, jose, name)
  }
})

t.test('a tampered payload or signature is bad_signature on both paths', async (t) => {
  const jwt = await token(BASE)
  const [h, p, s] = jwt.split('.') as [string, string, string]
  const other = (await token({ ...BASE, sub: 'someone-else' })).split('.')[1] as string
  t.strictSame(await both(`${h}.${other}.${s}`), ['bad_signature', 'bad_signature'])
  const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11)
  t.strictSame(await both(`${h}.${p}.${flipped}`), ['bad_signature', 'bad_signature'])
  t.strictSame(await both(`${h}.${p}.${s.slice(0, 42)}`), ['bad_signature', 'bad_signature'], 'truncated (31 bytes)')
})

const claimValue = fc.oneof(
  fc.constant(DELETE), fc.constant(null), fc.boolean(), fc.string({ maxLength: 8 }),
  fc.integer({ min: NOW_S - 400, max: NOW_S + 400 }), fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant('openemr-main'), fc.constant('jitsi-token-service'),
  fc.constant(['jitsi-token-service']), fc.constant(['x', 'jitsi-token-service']), fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 })
)

t.test('property: any claims, any clock, right or wrong key → identical outcome', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.record({ iss: claimValue, sub: claimValue, aud: claimValue, iat: claimValue, exp: claimValue, nbf: claimValue, jti: claimValue }, { requiredKeys: [] }),
    fc.integer({ min: -400, max: 400 }),
    fc.boolean(),
    async (patch, skew, rightKey) => {
      const claims = { ...BASE }
      for (const [k, v] of Object.entries(patch)) { if (v === DELETE) delete claims[k]; else claims[k] = v }
      const [fast, jose] = await both(await token(claims, rightKey ? EMR_SECRET : OTHER_SECRET), { ...CHECK, nowMs: NOW_MS + skew * 1000 })
      return fast === jose
    }
  ), { numRuns: 2000 })
  t.pass('2000 random claim sets agree')
})
