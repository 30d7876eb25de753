// Attack catalogue section B — key-selection headers (rows 15–21). No key ever comes from a token:
// kid only selects among the client's registered keys, and jku/x5u/jwk/x5c are refused outright.
// Spies prove that no file, DNS or network access happens while such tokens are checked.
import { generateKeyPairSync } from 'node:crypto'
import { SignJWT } from 'jose'
import t from 'tap'
import { EMR_SECRET, OTHER_SECRET, rsa } from '../helper.js'
import {
  assert401, b64u, buildSec, fsSpy, goodClaims, HS_HEADER, hs256Raw, lastAuthFailure, networkSpy, sendToken, visitRaw
} from './fixtures.js'

const TYP = 'emr-request+jwt'
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const attackerRsa = generateKeyPairSync('rsa', { modulusLength: 2048 })

t.test('B-15 kid path traversal / injection → 401, no file/DNS/network access, logged as kid "<invalid>"', async (t) => {
  const { app, logs } = await buildSec(t)
  const kids = ['../../etc/passwd', '/dev/null', '/proc/self/environ', "' OR 1=1--", '" OR ""="', '{"$ne":null}', '*', 'k1\u0000', 'k1\r\nX-Injected: 1',
    'http://169.254.169.254/latest/meta-data/', 'file:///etc/passwd', '..\\..\\windows\\win.ini', 'k1/../k1', '%2e%2e%2fetc%2fpasswd', 'k'.repeat(65)]
  // warm-up: the first inject lazily loads modules from disk, which is not what is under test
  await sendToken(app, hs256Raw(HS_HEADER, goodClaims()), '')
  const files = fsSpy(t)
  const net = networkSpy(t)
  for (const kid of kids) {
    const body = visitRaw()
    const res = await sendToken(app, hs256Raw({ ...HS_HEADER, kid }, goodClaims({ body })), body)
    assert401(t, res, `kid ${JSON.stringify(kid).slice(0, 40)}`)
    t.equal(lastAuthFailure(logs)?.kid, '<invalid>', `kid ${JSON.stringify(kid).slice(0, 40)} logged as <invalid>`)
  }
  // 10 KB kid: over the 8 KiB token cap, refused before the header is even decoded
  const body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, kid: 'k'.repeat(10 * 1024) }, goodClaims({ body })), body), '10 KB kid')
  t.same(files.calls, [], 'no file opened or read')
  t.same(net.calls, [], 'no DNS or network call')
  for (const kid of kids) t.notOk(logs.text.includes(kid), `raw kid ${JSON.stringify(kid).slice(0, 30)} never logged`)
  t.notMatch(logs.text, /etc\/passwd|OR 1=1|X-Injected/u, 'no injected text in the log')
})

t.test('B-16 kid of a key that belongs to another issuer → 401 (RFC 8725 §3.8)', async (t) => {
  const { app } = await buildSec(t)
  let body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, kid: 'k1' }, goodClaims({ body, iss: 'ehr-rsa' })), body), "openemr-main's kid k1 (and its secret) with iss ehr-rsa")
  body = visitRaw()
  assert401(t, await sendToken(app, await new SignJWT(goodClaims({ body, iss: 'openemr-main' })).setProtectedHeader({ alg: 'RS256', typ: TYP, kid: 'r1' }).sign(rsa.privateKey), body), "ehr-rsa's kid r1 (and its key) with iss openemr-main")
  body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw({ alg: 'HS256', typ: TYP, kid: 'k1' }, goodClaims({ body, iss: 'patient-portal' }), EMR_SECRET), body), "openemr-main's kid and secret with iss patient-portal")
  body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw({ alg: 'HS256', typ: TYP }, goodClaims({ body, iss: 'openemr-main' }), OTHER_SECRET), body), "patient-portal's secret with iss openemr-main")
  body = visitRaw()
  assert401(t, await sendToken(app, hs256Raw({ alg: 'HS256', typ: TYP }, goodClaims({ body, iss: 'patient-portal' }), EMR_SECRET), body), "openemr-main's secret with iss patient-portal")
  // control: each client with its own key
  body = visitRaw({ tenant: 'clinic-a', participants: [{ role: 'patient', id: 'pid-42', displayName: 'José Núñez' }] })
  t.equal((await sendToken(app, hs256Raw({ alg: 'HS256', typ: TYP }, goodClaims({ body, iss: 'patient-portal' }), OTHER_SECRET), body)).statusCode, 200, 'control: patient-portal with its own secret')
})

t.test('B-17 unknown kid flood (1 000 distinct) → 401 each, no outbound fetch, flat latency', async (t) => {
  const { app } = await buildSec(t)
  const net = networkSpy(t)
  const durations: number[] = []
  let non401 = 0
  for (let i = 0; i < 1000; i++) {
    const body = visitRaw()
    const kid = `unknown-${i.toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const started = process.hrtime.bigint()
    const res = await sendToken(app, hs256Raw({ ...HS_HEADER, kid }, goodClaims({ body })), body)
    durations.push(Number(process.hrtime.bigint() - started) / 1e6)
    if (res.statusCode !== 401) non401++
  }
  t.equal(non401, 0, 'all 1 000 refused with 401')
  t.same(net.calls, [], 'no outbound fetch for any unknown kid')
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  const first = median(durations.slice(50, 250))
  const last = median(durations.slice(-200))
  t.ok(last < first * 3 + 2, `latency flat: median ${first.toFixed(2)} ms early vs ${last.toFixed(2)} ms late`)
})

t.test('B-18 jku / x5u pointing anywhere → 401 and no outbound request', async (t) => {
  const { app, logs } = await buildSec(t)
  const net = networkSpy(t)
  const urls = ['https://attacker.example/.well-known/jwks.json', 'http://169.254.169.254/latest/meta-data/iam/', 'http://localhost:1/keys', 'http://127.0.0.1:6379/', 'file:///etc/passwd', '//attacker.example/k']
  for (const param of ['jku', 'x5u']) {
    for (const url of urls) {
      // signed with our registered secret (only the extra header is wrong) and with an attacker key
      let body = visitRaw()
      assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, [param]: url }, goodClaims({ body })), body), `${param} ${url} (registered secret)`)
      t.equal(lastAuthFailure(logs)?.reason, 'bad_header', 'refused on the header parameter')
      body = visitRaw()
      const forged = await new SignJWT(goodClaims({ body, iss: 'ehr-rsa' })).setProtectedHeader({ alg: 'ES256', typ: TYP, kid: 'e1', [param]: url }).sign(attacker.privateKey)
      assert401(t, await sendToken(app, forged, body), `${param} ${url} (attacker key)`)
    }
  }
  t.same(net.calls, [], 'zero outbound calls (fetch, http, https, net, tls, dns)')
})

t.test('B-19 embedded jwk / x5c with an attacker key → 401', async (t) => {
  const { app } = await buildSec(t)
  const net = networkSpy(t)
  let body = visitRaw()
  const jwkToken = await new SignJWT(goodClaims({ body, iss: 'ehr-rsa' }))
    .setProtectedHeader({ alg: 'ES256', typ: TYP, kid: 'e1', jwk: { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'e1' } }).sign(attacker.privateKey)
  assert401(t, await sendToken(app, jwkToken, body), 'jwk header with the attacker EC key (Wycheproof tcId 32)')
  body = visitRaw()
  const rsaJwk = await new SignJWT(goodClaims({ body, iss: 'ehr-rsa' }))
    .setProtectedHeader({ alg: 'RS256', typ: TYP, kid: 'r1', jwk: attackerRsa.publicKey.export({ format: 'jwk' }) }).sign(attackerRsa.privateKey)
  assert401(t, await sendToken(app, rsaJwk, body), 'jwk header with an attacker RSA key')
  body = visitRaw()
  const fakeCert = attackerRsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  const x5c = await new SignJWT(goodClaims({ body, iss: 'ehr-rsa' })).setProtectedHeader({ alg: 'RS256', typ: TYP, kid: 'r1', x5c: [fakeCert] }).sign(attackerRsa.privateKey)
  assert401(t, await sendToken(app, x5c, body), 'x5c chain with an attacker key')
  body = visitRaw()
  // HS256 with the secret given in the header itself
  assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, jwk: { kty: 'oct', k: b64u('attacker-secret-attacker-secret!!') } }, goodClaims({ body }), 'attacker-secret-attacker-secret!!'), body), 'oct jwk with the attacker secret')
  t.same(net.calls, [], 'no outbound calls')
})

t.test('B-20 header extras cty (nested JWT), zip, enc → 401', async (t) => {
  const { app } = await buildSec(t)
  const extras: Array<Record<string, unknown>> = [{ cty: 'JWT' }, { cty: 'json' }, { zip: 'DEF' }, { enc: 'A256GCM' }, { x5t: 'abc' }, { 'x5t#S256': 'abc' }, { url: 'https://x' }, { nonce: 'n' }, { iss: 'openemr-main' }]
  for (const extra of extras) {
    const body = visitRaw()
    assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, ...extra }, goodClaims({ body })), body), JSON.stringify(extra))
  }
  // a nested JWT: the outer token's payload is a whole (valid) inner assertion
  const body = visitRaw()
  const inner = hs256Raw(HS_HEADER, goodClaims({ body }))
  assert401(t, await sendToken(app, hs256Raw({ ...HS_HEADER, cty: 'JWT' }, inner), body), 'nested JWT with cty JWT')
  assert401(t, await sendToken(app, hs256Raw(HS_HEADER, JSON.stringify(inner)), body), 'payload that is a JWT string')
})

t.test('B-21 duplicate header names → 401 in either order', async (t) => {
  const { app, logs } = await buildSec(t)
  const headers = [
    '{"alg":"HS256","alg":"none","typ":"emr-request+jwt","kid":"k1"}',
    '{"alg":"none","alg":"HS256","typ":"emr-request+jwt","kid":"k1"}',
    '{"alg":"HS256","typ":"emr-request+jwt","kid":"k1","alg":"HS256"}',
    '{"alg":"HS256","typ":"JWT","typ":"emr-request+jwt","kid":"k1"}',
    '{"alg":"HS256","typ":"emr-request+jwt","kid":"../x","kid":"k1"}',
    '{"alg":"HS256","typ":"emr-request+jwt","kid":"k1","__proto__":{"alg":"none"}}'
  ]
  for (const header of headers) {
    const body = visitRaw()
    assert401(t, await sendToken(app, hs256Raw(header, goodClaims({ body })), body), header)
    t.equal(lastAuthFailure(logs)?.reason, 'malformed', 'refused by the strict header parse')
  }
  const body = visitRaw()
  t.equal((await sendToken(app, hs256Raw('{"alg":"HS256","typ":"emr-request+jwt","kid":"k1"}', goodClaims({ body })), body)).statusCode, 200, 'control: the same header without duplicates')
})
