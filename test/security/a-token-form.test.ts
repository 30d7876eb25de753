// Attack catalogue section A — token form and algorithm (rows 1–14). Tokens are built by hand
// (raw base64url + node:crypto) or with jose, so every header and byte is under the test's control.
import { constants, createHash, createHmac, generateKeyPairSync, privateEncrypt, type KeyObject } from 'node:crypto'
import fc from 'fast-check'
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { verifyAssertion } from '../../src/auth/assertion.js'
import { MemoryReplayStore } from '../../src/auth/replay-store.js'
import { AuthError } from '../../src/errors.js'
import { assertion, ec, ed, EMR_SECRET, JITSI_SECRET, NOW_MS, rsa, signedPost, testConfig, visitBody } from '../helper.js'
import {
  assert401, b64u, buildSec, goodClaims, HS_HEADER, hs256Raw, lastAuthFailure, listen, networkSpy, rawExchange, rawToken,
  send, sendToken, SocketSet, statuses, visitRaw, VISITS
} from './fixtures.js'

const TYP = 'emr-request+jwt'
const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string

/** A correctly signed asymmetric assertion for ehr-rsa (kid r1 RS256, e1 ES256) or ehr-ed (EdDSA, no kid). */
async function asym (alg: string, key: KeyObject, kid: string | undefined, body: string, iss = kid === undefined ? 'ehr-ed' : 'ehr-rsa', headerAlg = alg): Promise<string> {
  const token = await new SignJWT(goodClaims({ body, iss })).setProtectedHeader({ alg, typ: TYP, ...(kid !== undefined ? { kid } : {}) }).sign(key)
  if (headerAlg === alg) return token
  // same signature, another alg in the header
  const [, p, s] = token.split('.')
  return `${b64u({ alg: headerAlg, typ: TYP, kid })}.${p}.${s}`
}

t.test('A-1 missing / empty / non-Bearer Authorization, two Authorization headers → 401', async (t) => {
  const { app, logs } = await buildSec(t)
  const body = visitRaw()
  const good = await assertion({ body })
  const cases: Array<[string, string | undefined]> = [
    ['no header', undefined],
    ['empty', ''],
    ['Bearer without token', 'Bearer'],
    ['Bearer and a space', 'Bearer '],
    ['Basic credentials', 'Basic ' + Buffer.from('openemr-main:' + EMR_SECRET).toString('base64')],
    ['Basic with the token', `Basic ${good.split('.')[0]}`],
    ['token without scheme', good],
    ['DPoP scheme', `DPoP ${good}`],
    ['two Bearer tokens in one header', `Bearer ${good}, Bearer ${good}`]
  ]
  for (const [what, authorization] of cases) {
    const res = await send(app, authorization, body)
    assert401(t, res, what)
  }
  // two Authorization header lines (inject keeps both in rawHeaders)
  const two = await app.inject({ method: 'POST', url: VISITS, headers: { 'content-type': 'application/json', authorization: [`Bearer ${good}`, `Bearer ${good}`] as unknown as string }, payload: body })
  assert401(t, two, 'two Authorization headers (inject)')
  t.equal(lastAuthFailure(logs)?.reason, 'malformed', 'logged as malformed')
  // the same on the wire: Node would keep only the first, the service refuses both
  const port = await listen(app)
  const sockets = new SocketSet(t)
  const fresh = await assertion({ body })
  const wire = await rawExchange(sockets, port, `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${fresh}\r\nAuthorization: Bearer x.y.z\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  t.same(statuses(wire.data), [401], 'two Authorization lines on a socket → 401')
  // control: the same fresh assertion alone is accepted
  const ok = await send(app, `Bearer ${fresh}`, body)
  t.equal(ok.statusCode, 200, 'control: the assertion itself was valid and unspent')
})

t.test('A-2 alg none in every casing, empty alg → 401', async (t) => {
  const { app } = await buildSec(t)
  for (const alg of ['none', 'None', 'NONE', 'nOnE', '', ' none', 'none ']) {
    const body = visitRaw()
    const claims = goodClaims({ body })
    const header = { alg, typ: TYP, kid: 'k1' }
    assert401(t, await sendToken(app, rawToken(header, claims, ''), body), `alg "${alg}" with empty signature`)
    assert401(t, await sendToken(app, hs256Raw(header, claims), body), `alg "${alg}" with an HMAC signature`)
    assert401(t, await sendToken(app, rawToken({ alg, typ: TYP }, goodClaims({ body, iss: 'ehr-ed' }), ''), body), `alg "${alg}" without kid`)
  }
  // jose's own unsecured JWT form
  const body = visitRaw()
  assert401(t, await sendToken(app, `${b64u({ alg: 'none' })}.${b64u(goodClaims({ body }))}.`, body), 'jose UnsecuredJWT form')
})

t.test('A-3 HS256 keyed with a registered public key (PEM variants, DER, JWK) → 401', async (t) => {
  const { app } = await buildSec(t)
  const keys: Array<[string, KeyObject, string | undefined]> = [['RSA r1', rsa.publicKey, 'r1'], ['EC e1', ec.publicKey, 'e1'], ['Ed25519', ed.publicKey, undefined]]
  for (const [name, pub, kid] of keys) {
    const pem = spki(pub)
    const forms: Array<[string, string | Buffer]> = [
      ['PEM', pem],
      ['PEM without trailing newline', pem.trimEnd()],
      ['PEM with leading spaces', '   ' + pem],
      ['PEM with BOM', '\uFEFF' + pem],
      ['PEM with zero-width space', '\u200B' + pem],
      ['PEM with a comment line', '# ' + name + '\n' + pem],
      ['PEM with CRLF', pem.replace(/\n/gu, '\r\n')],
      ['DER (SPKI)', pub.export({ type: 'spki', format: 'der' })],
      ['JWK JSON', JSON.stringify(pub.export({ format: 'jwk' }))],
      ['JWK JSON with kid/alg', JSON.stringify({ ...pub.export({ format: 'jwk' }), kid, use: 'sig' })]
    ]
    if (pub === rsa.publicKey) {
      forms.push(['PKCS#1 PEM', pub.export({ type: 'pkcs1', format: 'pem' }) as string], ['PKCS#1 DER', pub.export({ type: 'pkcs1', format: 'der' })])
    }
    if (pub === ec.publicKey) {
      const jwk = pub.export({ format: 'jwk' })
      forms.push(['raw EC point', Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')])])
    }
    for (const [form, key] of forms) {
      const body = visitRaw()
      const header = { alg: 'HS256', typ: TYP, ...(kid !== undefined ? { kid } : {}) }
      const iss = kid === undefined ? 'ehr-ed' : 'ehr-rsa'
      assert401(t, await sendToken(app, hs256Raw(header, goodClaims({ body, iss }), key), body), `${name} ${form}`)
    }
  }
})

t.test('A-4 a valid signature with an algorithm not registered for that key → 401', async (t) => {
  const { app } = await buildSec(t)
  // controls: each registered key and alg works
  for (const [alg, key, kid] of [['RS256', rsa.privateKey, 'r1'], ['ES256', ec.privateKey, 'e1'], ['EdDSA', ed.privateKey, undefined]] as const) {
    // ehr-ed has no tenant list, so its visits carry no tenant
    const body = visitRaw(kid === undefined ? { tenant: undefined } : {})
    t.equal((await sendToken(app, await asym(alg, key, kid, body), body)).statusCode, 200, `control: ${alg} accepted`)
  }
  let body = visitRaw()
  assert401(t, await sendToken(app, await asym('RS256', rsa.privateKey, 'e1', body), body), 'RS256 token to ES256-only key e1')
  body = visitRaw()
  assert401(t, await sendToken(app, await asym('ES256', ec.privateKey, 'r1', body), body), 'ES256 token to RS256-only key r1')
  body = visitRaw()
  assert401(t, await sendToken(app, await asym('EdDSA', ed.privateKey, 'r1', body), body), 'EdDSA token to RS256-only key r1')
  body = visitRaw()
  assert401(t, await sendToken(app, await asym('RS256', rsa.privateKey, undefined, body, 'ehr-ed'), body), 'RS256 token to EdDSA-only client')
  for (const hash of ['sha384', 'sha512'] as const) {
    body = visitRaw()
    const alg = hash === 'sha384' ? 'HS384' : 'HS512'
    assert401(t, await sendToken(app, hs256Raw({ alg, typ: TYP, kid: 'k1' }, goodClaims({ body }), EMR_SECRET, hash), body), `${alg} with the registered HS256 secret`)
  }
  body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw({ alg: 'HS256', typ: TYP, kid: 'k1' }, goodClaims({ body }), EMR_SECRET, 'sha512'), body), 'HS256 header over an HS512 MAC')
})

t.test('A-5 algorithm downgrade / unknown algorithms on the RS256 key → 401', async (t) => {
  const { app } = await buildSec(t)
  for (const alg of ['PS256', 'RS384', 'RS512', 'PS512']) {
    const body = visitRaw()
    assert401(t, await sendToken(app, await asym(alg, rsa.privateKey, 'r1', body), body), `${alg} signed by the registered RSA key`)
  }
  for (const alg of ['XS256', 'rs256', 'RS256 ', 'HS256\u0000', 'ES256K', 'ES384']) {
    const body = visitRaw()
    assert401(t, await sendToken(app, hs256Raw({ alg, typ: TYP, kid: 'r1' }, goodClaims({ body, iss: 'ehr-rsa' })), body), `alg "${alg}"`)
  }
  // PS256 signature presented under an RS256 header (Wycheproof "WrongPrimitive")
  const body = visitRaw()
  assert401(t, await sendToken(app, await asym('PS256', rsa.privateKey, 'r1', body, 'ehr-rsa', 'RS256'), body), 'PS256 signature under RS256 header')
})

t.test('A-6 signature bit-flip, truncation, padding, standard alphabet, whitespace → 401', async (t) => {
  const { app } = await buildSec(t)
  const fresh = () => { const body = visitRaw(); return { body, token: hs256Raw(HS_HEADER, goodClaims({ body })) } }
  const withSig = (token: string, f: (sig: string) => string) => { const [h, p, s] = token.split('.') as [string, string, string]; return `${h}.${p}.${f(s)}` }
  const flip = (s: string, byte: number) => { const b = Buffer.from(s, 'base64url'); b[byte] = (b[byte] as number) ^ 1; return b.toString('base64url') }
  const cases: Array<[string, (s: string) => string]> = [
    ['bit flip in the first byte', (s) => flip(s, 0)],
    ['bit flip in the last byte', (s) => flip(s, 31)],
    ['one byte truncated', (s) => Buffer.from(s, 'base64url').subarray(0, 31).toString('base64url')],
    ['one character truncated', (s) => s.slice(0, -1)],
    ['half the signature', (s) => s.slice(0, 21)],
    ['= padding', (s) => s + '='],
    ['signature doubled', (s) => s + s],
    ['trailing space', (s) => s + ' '],
    ['space inside', (s) => s.slice(0, 10) + ' ' + s.slice(10)],
    ['tab inside', (s) => s.slice(0, 10) + '\t' + s.slice(10)],
    ['non-canonical last character (same bytes)', (s) => s.slice(0, -1) + String.fromCharCode(s.charCodeAt(s.length - 1) ^ 1)]
  ]
  for (const [what, f] of cases) {
    const { body, token } = fresh()
    const mutated = withSig(token, f)
    t.not(mutated, token, `${what}: differs`)
    assert401(t, await sendToken(app, mutated, body), what)
    t.equal((await sendToken(app, token, body)).statusCode, 200, `${what}: control accepted`)
  }
  // standard base64 alphabet: regenerate until the signature contains - or _
  for (let i = 0; i < 50; i++) {
    const { body, token } = fresh()
    const std = withSig(token, (s) => s.replace(/-/gu, '+').replace(/_/gu, '/'))
    if (std === token) continue
    assert401(t, await sendToken(app, std, body), '+ and / instead of - and _')
    break
  }
  // a line break inside the header value cannot even be sent through inject; on the wire Node refuses it
  const port = await listen(app)
  const sockets = new SocketSet(t)
  const { body, token } = fresh()
  for (const [what, value] of [['LF inside', `Bearer ${token.slice(0, 20)}\n${token.slice(20)}`], ['obs-fold inside', `Bearer ${token.slice(0, 20)}\r\n ${token.slice(20)}`]] as const) {
    const wire = await rawExchange(sockets, port, `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${value}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    t.ok([400, 401].includes(statuses(wire.data)[0] ?? 0), `${what}: ${statuses(wire.data).join(',')} (400 from Node's parser or 401)`)
    t.notMatch(wire.data, /HTTP\/1\.1 200/u, `${what}: never 200`)
  }
})

t.test('A-7 wrong segment counts, empty segments, JSON serialization → 401', async (t) => {
  const { app } = await buildSec(t)
  const body = visitRaw()
  const token = hs256Raw(HS_HEADER, goodClaims({ body }))
  const [h, p, s] = token.split('.') as [string, string, string]
  const jwe = `${b64u({ alg: 'dir', enc: 'A256GCM', typ: TYP, kid: 'k1' })}..${b64u('iv-iv-iv-iv')}.${p}.${b64u('tag-tag-tag-tag')}`
  const cases: Array<[string, string]> = [
    ['a.b', `${h}.${p}`],
    ['a.b.c.d', `${token}.${s}`],
    ['trailing dot', `${token}.`],
    ['5-part JWE', jwe],
    ['empty header', `.${p}.${s}`],
    ['empty payload', `${h}..${s}`],
    ['empty signature', `${h}.${p}.`],
    ['only dots', '..'],
    ['one segment', h],
    ['JSON serialization', JSON.stringify({ payload: p, protected: h, signature: s })],
    ['general JSON serialization', JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] })]
  ]
  for (const [what, tok] of cases) assert401(t, await sendToken(app, tok, body), what)
  t.equal((await sendToken(app, token, body)).statusCode, 200, 'control: the compact token itself is accepted')
})

t.test('A-8 header or payload not base64url, not UTF-8, not a JSON object → 401', async (t) => {
  const { app } = await buildSec(t)
  const overlong = (json: string, at: string) => { const i = json.indexOf(at) + at.length; return Buffer.concat([Buffer.from(json.slice(0, i)), Buffer.from([0xc0, 0xaf]), Buffer.from(json.slice(i))]) }
  const body = visitRaw()
  const claims = goodClaims({ body })
  const headerJson = JSON.stringify(HS_HEADER)
  const payloadJson = JSON.stringify(claims)
  const cases: Array<[string, string]> = [
    ['header with * (not base64url)', `e30*.${b64u(claims)}.${b64u('sig')}`],
    ['header in standard base64 with padding', `${Buffer.from(headerJson).toString('base64')}.${b64u(claims)}.${b64u('sig')}`],
    ['header overlong UTF-8 (C0 AF)', hs256Raw(overlong(headerJson, '"kid":"k1'), claims)],
    ['header invalid UTF-8 (FF)', hs256Raw(Buffer.concat([Buffer.from(headerJson.slice(0, -1) + ',"x":"'), Buffer.from([0xff]), Buffer.from('"}')]), claims)],
    ['header is an array', hs256Raw('[]', claims)],
    ['header is a string', hs256Raw('"HS256"', claims)],
    ['header is a number', hs256Raw('1', claims)],
    ['header is null', hs256Raw('null', claims)],
    ['header is not JSON', hs256Raw('alg=HS256', claims)],
    ['payload overlong UTF-8 in a claim', hs256Raw(HS_HEADER, overlong(payloadJson, '"sub":"emr-user-1'))],
    ['payload overlong UTF-8 in an unused claim', hs256Raw(HS_HEADER, overlong(payloadJson.slice(0, -1) + ',"note":"x"}', '"note":"x'))],
    ['payload lone surrogate bytes', hs256Raw(HS_HEADER, Buffer.concat([Buffer.from(payloadJson.slice(0, -1) + ',"note":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]))],
    ['payload is an array', hs256Raw(HS_HEADER, '[]')],
    ['payload is an array of claims', hs256Raw(HS_HEADER, `[${payloadJson}]`)],
    ['payload is a string', hs256Raw(HS_HEADER, '"claims"')],
    ['payload is a number', hs256Raw(HS_HEADER, '42')],
    ['payload is null', hs256Raw(HS_HEADER, 'null')],
    ['payload is not JSON', hs256Raw(HS_HEADER, 'iss=openemr-main')]
  ]
  for (const [what, tok] of cases) assert401(t, await sendToken(app, tok, body), what)
})

t.test('A-9 crit (any) and b64:false → 401', async (t) => {
  const { app } = await buildSec(t)
  for (const extra of [{ crit: ['exp'] }, { crit: [] }, { crit: ['b64'], b64: false }, { b64: false }, { crit: ['htu'], htu: '/v1/visits' }]) {
    const body = visitRaw()
    assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, ...extra }, goodClaims({ body })), body), JSON.stringify(extra))
  }
  // b64:false done properly (RFC 7797: unencoded payload in the signing input)
  const body = visitRaw()
  const h = b64u({ ...HS_HEADER, b64: false, crit: ['b64'] })
  const payload = JSON.stringify(goodClaims({ body }))
  const mac = createHmac('sha256', EMR_SECRET).update(`${h}.${payload}`).digest('base64url')
  assert401(t, await sendToken(app, `${h}..${mac}`, body), 'RFC 7797 unencoded payload, detached')
  assert401(t, await sendToken(app, `${h}.${payload}.${mac}`, body), 'RFC 7797 unencoded payload, inline')
})

t.test('A-10 typ missing or wrong → 401', async (t) => {
  const { app } = await buildSec(t)
  for (const typ of [undefined, 'JWT', 'jwt', 'at+jwt', 'application/at+jwt', 'dpop+jwt', 'emr-request', 'emr-request+jwt ', '', 1, null]) {
    const body = visitRaw()
    const header: Record<string, unknown> = { alg: 'HS256', kid: 'k1' }
    if (typ !== undefined) header.typ = typ
    assert401(t, await sendToken(app, hs256Raw(header, goodClaims({ body })), body), `typ ${JSON.stringify(typ)}`)
  }
  // an OpenEMR-style OAuth access token signed with the EMR key: right key, wrong kind of token
  const body = visitRaw()
  const oauth = { iss: 'openemr-main', sub: 'emr-user-1', aud: 'jitsi-token-service', iat: 1_795_273_200, exp: 1_795_273_260, jti: 'oauth-access-token-0001', scope: 'openid api:oemr' }
  assert401(t, await sendToken(app, hs256Raw({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' }, oauth), body), 'OAuth access token')
})

t.test('A-11 a Jitsi token minted by this service, sent back as the EMR assertion → 401', async (t) => {
  const { app, logs } = await buildSec(t)
  const minted = await signedPost(app, VISITS, visitBody())
  t.equal(minted.statusCode, 200, 'minted')
  const participants = (minted.json() as { participants: Array<{ token: string }> }).participants
  for (const { token } of participants) {
    const body = visitRaw()
    assert401(t, await sendToken(app, token, body), 'our own Jitsi token')
  }
  t.equal(lastAuthFailure(logs)?.reason, 'wrong_type', 'first refused on typ')
  // an assertion with every EMR claim right but signed with the Jitsi app secret
  const body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw(HS_HEADER, goodClaims({ body }), JITSI_SECRET), body), 'EMR claims signed with JWT_APP_SECRET')
  t.equal(lastAuthFailure(logs)?.reason, 'bad_signature', 'refused on signature')
})

t.test('A-12 oversized tokens: > 8 KiB → 401 before parsing; Authorization > 16 KiB → 431 from Node', async (t) => {
  const { app, logs } = await buildSec(t)
  const body = visitRaw()
  const big = hs256Raw(HS_HEADER, { ...goodClaims({ body }), pad: 'x'.repeat(7000) })
  t.ok(big.length > 9 * 1024, `token is ${big.length} bytes`)
  assert401(t, await sendToken(app, big, body), '9 KiB token')
  t.equal(lastAuthFailure(logs)?.reason, 'malformed', 'refused by size')
  // just under the cap, correctly signed: accepted (the cap is not lower than documented)
  const claims = goodClaims({ body })
  const base = hs256Raw(HS_HEADER, claims).length
  const fit = hs256Raw(HS_HEADER, { ...claims, pad: 'x'.repeat(Math.floor((8192 - base - 16) * 3 / 4)) })
  t.ok(fit.length <= 8192, `token of ${fit.length} bytes fits the cap`)
  t.equal((await sendToken(app, fit, body)).statusCode, 200, 'just under 8 KiB: accepted')

  const port = await listen(app)
  const sockets = new SocketSet(t)
  const huge = 'Bearer ' + 'a'.repeat(17 * 1024)
  const wire = await rawExchange(sockets, port, `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${huge}\r\nContent-Length: 2\r\n\r\n{}`)
  t.same(statuses(wire.data), [431], 'Authorization of 17 KiB → 431')
  t.ok(wire.closed, 'connection closed')
})

t.test('A-13 Wycheproof JWS patterns (HS256/ES256/RS256) against the verifier configuration: every invalid case rejected', async (t) => {
  const config = testConfig()
  const body = Buffer.from(visitRaw())
  const verify = async (token: string) => await verifyAssertion(
    { authorization: `Bearer ${token}`, method: 'POST', target: VISITS, body, nowMs: NOW_MS },
    { clients: config.clients, audience: config.serviceAudience, replayStore: new MemoryReplayStore(() => NOW_MS) }
  )
  const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const groups: Array<{ name: string, valid: () => Promise<string>, extra: Array<[string, () => Promise<string>]> }> = [
    { name: 'hs256', valid: async () => hs256Raw(HS_HEADER, goodClaims({ body: body.toString() })), extra: [] },
    {
      name: 'es256',
      valid: async () => await asym('ES256', ec.privateKey, 'e1', body.toString()),
      extra: [
        ['symmetry confusion: HMAC keyed with the EC point bytes', async () => {
          const jwk = ec.publicKey.export({ format: 'jwk' })
          const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')])
          return hs256Raw({ alg: 'HS256', typ: TYP, kid: 'e1' }, goodClaims({ body: body.toString(), iss: 'ehr-rsa' }), point)
        }],
        ['symmetry confusion: HMAC keyed with the SPKI DER', async () => hs256Raw({ alg: 'HS256', typ: TYP, kid: 'e1' }, goodClaims({ body: body.toString(), iss: 'ehr-rsa' }), ec.publicKey.export({ type: 'spki', format: 'der' }))],
        ['attacker-provided embedded jwk (tcId 32 pattern)', async () => await new SignJWT(goodClaims({ body: body.toString(), iss: 'ehr-rsa' }))
          .setProtectedHeader({ alg: 'ES256', typ: TYP, kid: 'e1', jwk: { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'e1' } }).sign(attacker.privateKey)],
        ['attacker key without jwk header', async () => await asym('ES256', attacker.privateKey, 'e1', body.toString())]
      ]
    },
    {
      name: 'rs256',
      valid: async () => await asym('RS256', rsa.privateKey, 'r1', body.toString()),
      extra: [
        ['wrong primitive: PS256 signature under RS256', async () => await asym('PS256', rsa.privateKey, 'r1', body.toString(), 'ehr-rsa', 'RS256')],
        ...modifiedPadding(body.toString())
      ]
    }
  ]
  for (const g of groups) {
    const token = await g.valid()
    const [h, p, s] = token.split('.') as [string, string, string]
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
    const firstChar = (x: string) => (x[0] === 'A' ? 'B' : 'A') + x.slice(1)
    const invalid: Array<[string, string]> = [
      ['modified signature', `${h}.${p}.${firstChar(s)}`],
      ['missing signature', `${h}.${p}.`],
      ['missing signature and separator', `${h}.${p}`],
      ['modified payload', `${h}.${b64u({ ...payload, sub: 'emr-user-2' })}.${s}`],
      ['missing payload', `${h}..${s}`],
      ['missing payload and separator', `${h}.${s}`],
      ['modified header', `${b64u({ ...header, typ: TYP.toUpperCase() })}.${p}.${s}`],
      ['missing header', `.${p}.${s}`],
      ['missing header and separator', `${p}.${s}`],
      ['missing header and signature', `.${p}.`],
      ['only the payload', p],
      ['empty string', ''],
      ['extra empty component', `${token}.`],
      ['extra component', `${token}.foo`],
      ['alg none and missing signature', `${b64u({ ...header, alg: 'none' })}.${p}.`],
      ['JSON serialization', JSON.stringify({ payload: p, signatures: [{ protected: h, header: { unknown: 'untrustworthy' }, signature: s }] })]
    ]
    for (const [what, bad] of invalid) await t.rejects(verify(bad), AuthError, `${g.name}: ${what}`)
    for (const [what, make] of g.extra) await t.rejects(verify(await make()), AuthError, `${g.name}: ${what}`)
    await t.resolves(verify(token), `${g.name}: acceptsValid`)
  }
  // The published vectors themselves, when a checkout provides them (CI has no route to GitHub;
  // set WYCHEPROOF_JWS=/path/to/json_web_signature_test.json to replay them too).
  if (process.env.WYCHEPROOF_JWS !== undefined) await replayWycheproof(t, process.env.WYCHEPROOF_JWS)
})

/** RS256 signatures whose PKCS#1 v1.5 encoding was tampered with before the raw RSA operation. */
function modifiedPadding (body: string): Array<[string, () => Promise<string>]> {
  const header = b64u({ alg: 'RS256', typ: TYP, kid: 'r1' })
  const input = () => `${header}.${b64u(goodClaims({ body, iss: 'ehr-rsa' }))}`
  const SHA256_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex')
  const k = 256
  const encode = (blockType: number, t: Buffer, sep = 0, lead = 0) => Buffer.concat([Buffer.from([lead, blockType]), Buffer.alloc(k - 3 - t.length, 0xff), Buffer.from([sep]), t])
  const sign = (em: Buffer) => privateEncrypt({ key: rsa.privateKey, padding: constants.RSA_NO_PADDING }, em).toString('base64url')
  const variant = (what: string, em: (hash: Buffer) => Buffer): [string, () => Promise<string>] => [`modified padding: ${what}`, async () => {
    const i = input()
    return `${i}.${sign(em(createHash('sha256').update(i).digest()))}`
  }]
  return [
    variant('block type 02', (h) => encode(2, Buffer.concat([SHA256_PREFIX, h]))),
    variant('no DigestInfo', (h) => encode(1, h)),
    variant('DigestInfo without NULL parameters', (h) => encode(1, Buffer.concat([Buffer.from('302f300b0609608648016503040201', 'hex'), Buffer.from('0420', 'hex'), h]))),
    variant('SHA-1 OID with a SHA-256 hash', (h) => encode(1, Buffer.concat([Buffer.from('3031300d06052b0e03021a05000420', 'hex'), h]))),
    variant('separator 01 instead of 00', (h) => encode(1, Buffer.concat([SHA256_PREFIX, h]), 1)),
    variant('appended zero byte', (h) => { const e = encode(1, Buffer.concat([SHA256_PREFIX, h, Buffer.from([0])])); return e }),
    variant('leading byte 01', (h) => encode(1, Buffer.concat([SHA256_PREFIX, h]), 0, 1))
  ]
}

async function replayWycheproof (t: Test, path: string): Promise<void> {
  const { readFileSync } = await import('node:fs')
  const { compactVerify, importJWK } = await import('jose')
  const file = JSON.parse(readFileSync(path, 'utf8')) as { testGroups: Array<{ comment: string, private?: Record<string, string>, public?: Record<string, string>, tests: Array<{ tcId: number, jws: string, result: string }> }> }
  for (const group of file.testGroups.filter((g) => ['hs256', 'es256', 'rs256'].includes(g.comment))) {
    const jwk = group.public ?? group.private as Record<string, string>
    const alg = jwk.alg as string
    const key = await importJWK(jwk, alg)
    for (const test of group.tests) {
      // the verifier's configuration: exactly one algorithm per key, compact serialization only
      const outcome = await compactVerify(test.jws, key, { algorithms: [alg] }).then(() => 'valid', () => 'invalid')
      if (test.result === 'invalid') t.equal(outcome, 'invalid', `wycheproof tcId ${test.tcId}`)
    }
  }
}

t.test('A-14 property: a random mutation of a valid assertion is never accepted unless byte-identical', async (t) => {
  const { app } = await buildSec(t)
  const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c))
  const mutation = fc.record({
    op: fc.constantFrom('replace', 'insert', 'delete', 'swap'),
    at: fc.nat(),
    ch: fc.oneof(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.='.split('')), printable)
  })
  let mutated = 0
  await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (ops, asymmetric) => {
    const body = visitRaw()
    const token = asymmetric ? await asym('ES256', ec.privateKey, 'e1', body) : hs256Raw(HS_HEADER, goodClaims({ body }))
    let m = token
    for (const { op, at, ch } of ops) {
      const i = at % (m.length + (op === 'insert' ? 1 : 0))
      if (op === 'replace') m = m.slice(0, i) + ch + m.slice(i + 1)
      else if (op === 'insert') m = m.slice(0, i) + ch + m.slice(i)
      else if (op === 'delete') m = m.slice(0, i) + m.slice(i + 1)
      else if (i + 1 < m.length) m = m.slice(0, i) + (m[i + 1] as string) + (m[i] as string) + m.slice(i + 2)
    }
    if (m === token) return true
    mutated++
    const res = await sendToken(app, m, body)
    if (res.statusCode !== 401) return false
    // the refused mutant must not have spent the original's jti
    return (await sendToken(app, token, body)).statusCode === 200
  }), { numRuns: 250 })
  t.ok(mutated > 200, `${mutated} distinct mutants refused`)
  // body mutations under an unchanged token
  await fc.assert(fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (at, x) => {
    const body = Buffer.from(visitRaw())
    const token = hs256Raw(HS_HEADER, goodClaims({ body: body.toString() }))
    const changed = Buffer.from(body)
    const i = at % changed.length
    changed[i] = (changed[i] as number) ^ x
    const res = await sendToken(app, token, changed)
    return res.statusCode === 401
  }), { numRuns: 200 })
})

// network: none of the above may reach out (jku/x5u rows live in b-key-selection.test.ts)
t.test('A-rows make no outbound network call', async (t) => {
  const spy = networkSpy(t)
  const { app } = await buildSec(t)
  const body = visitRaw()
  await sendToken(app, hs256Raw({ alg: 'HS256', typ: TYP, kid: 'r1' }, goodClaims({ body, iss: 'ehr-rsa' }), spki(rsa.publicKey)), body)
  await sendToken(app, rawToken({ alg: 'none', typ: TYP }, goodClaims({ body }), ''), body)
  t.same(spy.calls, [], 'no outbound calls')
})
