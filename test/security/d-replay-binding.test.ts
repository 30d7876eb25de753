// Attack catalogue section D — replay and request binding (rows 41–47). Replicas share a real
// redis-server (Debian package, test/fixtures/redis-server.ts) for the cross-pod rows.
import { createHash } from 'node:crypto'
import t from 'tap'
import { MemoryReplayStore, type ReplayStore } from '../../src/auth/replay-store.js'
import { assertion, bodyHash, build, NOW_MS, NOW_S, OTHER_SECRET, visitBody, type Built } from '../helper.js'
import { startRedis } from '../fixtures/redis-server.js'
import {
  assert401, authFailures, buildSec, goodClaims, HS_HEADER, hs256Raw, lastAuthFailure, RELAXED_ENV, send, sendClaims, sendToken, TOKENS, visitRaw, VISITS
} from './fixtures.js'

const redis = await startRedis()
t.teardown(() => redis.stop())

/** Like Kubernetes: no traffic until /readyz says the replay store answers. */
async function ready (built: Built): Promise<Built> {
  for (let i = 0; i < 50; i++) {
    if ((await built.app.inject('/readyz')).statusCode === 200) return built
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('app never became ready')
}

t.test('D-41 the same assertion twice on one pod → 200 then 401 (reason replay)', async (t) => {
  const { app, logs } = await buildSec(t)
  const body = visitRaw()
  const token = await assertion({ body })
  t.equal((await sendToken(app, token, body)).statusCode, 200, 'first use: 200')
  assert401(t, await sendToken(app, token, body), 'second use')
  t.equal(lastAuthFailure(logs)?.reason, 'replay', 'logged reason=replay')
  assert401(t, await sendToken(app, token, body), 'third use')
  // the same jti with a new signature (another iat) is still the same assertion id
  const jti = 'replayed-jti-000000000001'
  const b2 = visitRaw()
  t.equal((await sendToken(app, hs256Raw(HS_HEADER, { ...goodClaims({ body: b2 }), jti }), b2)).statusCode, 200, 'jti first use')
  assert401(t, await sendToken(app, hs256Raw(HS_HEADER, { ...goodClaims({ body: b2 }), jti, iat: NOW_S - 1 }), b2), 'same jti, re-signed')
  // jtis are per client: another client may use the same string
  const portalBody = JSON.stringify(visitBody({ participants: [{ role: 'patient', id: 'pid-42', displayName: 'José Núñez' }] }))
  const portalToken = hs256Raw({ alg: 'HS256', typ: 'emr-request+jwt' }, { ...goodClaims({ body: portalBody, iss: 'patient-portal' }), jti }, OTHER_SECRET)
  t.equal((await sendToken(app, portalToken, portalBody)).statusCode, 200, 'same jti from another client: its own namespace')
})

t.test('D-42 50 parallel copies of one assertion: exactly one 200, on one pod and across two replicas sharing Redis', async (t) => {
  const one = await buildSec(t)
  let body = visitRaw()
  let token = await assertion({ body })
  let statuses = (await Promise.all(Array.from({ length: 50 }, () => sendToken(one.app, token, body)))).map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'one pod: exactly one 200')
  t.equal(statuses.filter((s) => s === 401).length, 49, 'one pod: 49 × 401')

  const env = { ...RELAXED_ENV, REDIS_URL: redis.url }
  const a = await ready(await build(t, { env }))
  const b = await ready(await build(t, { env }))
  for (let round = 0; round < 3; round++) {
    body = visitRaw()
    token = await assertion({ body })
    statuses = (await Promise.all(Array.from({ length: 50 }, (_, i) => sendToken((i % 2 === 0 ? a : b).app, token, body)))).map((r) => r.statusCode)
    t.equal(statuses.filter((s) => s === 200).length, 1, `two replicas, round ${round + 1}: exactly one 200`)
    t.equal(statuses.filter((s) => s === 401).length, 49, `two replicas, round ${round + 1}: 49 × 401`)
  }
  const reasons = [...authFailures(a.logs), ...authFailures(b.logs)].map((r) => r.reason)
  t.ok(reasons.length > 0 && reasons.every((r) => r === 'replay'), 'every refusal logged as replay')
})

t.test('D-43 replay store down → 503 + Retry-After (fail closed), readiness false, never 200', async (t) => {
  // a store that cannot answer
  const broken: ReplayStore = { claimOnce: async () => { throw new Error('ECONNREFUSED') }, ping: async () => { throw new Error('ECONNREFUSED') }, close: async () => {} }
  const { app } = await buildSec(t, { build: { replayStore: broken } })
  for (let i = 0; i < 3; i++) {
    const body = visitRaw()
    const res = await sendToken(app, await assertion({ body }), body)
    t.equal(res.statusCode, 503, 'store throws: 503')
    t.ok(Number(res.headers['retry-after']) >= 1, 'Retry-After')
    t.match(res.json(), { code: 'unavailable' }, 'problem code unavailable')
    t.notMatch(res.body, /"token"|jwt=/u, 'no token issued')
  }
  t.equal((await app.inject('/readyz')).statusCode, 503, 'readiness false')
  t.equal((await app.inject('/healthz')).statusCode, 200, 'liveness unaffected')

  // the real thing: Redis stopped under a running replica
  const own = await startRedis()
  t.teardown(() => own.stop())
  const r = await ready(await build(t, { env: { ...RELAXED_ENV, REDIS_URL: own.url } }))
  let body = visitRaw()
  t.equal((await sendToken(r.app, await assertion({ body }), body)).statusCode, 200, 'control: 200 while Redis runs')
  await own.stop()
  body = visitRaw()
  const started = Date.now()
  const res = await sendToken(r.app, await assertion({ body }), body)
  t.equal(res.statusCode, 503, 'Redis down: 503')
  t.ok(Number(res.headers['retry-after']) >= 1, 'Redis down: Retry-After')
  t.ok(Date.now() - started <= 1500, `Redis down: answered in ${Date.now() - started} ms`)
  t.equal((await r.app.inject('/readyz')).statusCode, 503, 'Redis down: readiness false')
  t.equal((await r.app.inject('/healthz')).statusCode, 200, 'Redis down: liveness green')
})

t.test('D-44 body changed after signing (byte, order, whitespace, extra field, NFC↔NFD) → 401', async (t) => {
  const { app, logs } = await buildSec(t)
  const original = visitBody({ participants: [{ role: 'provider', id: 'user-7', displayName: 'Dr. José Núñez' }] })
  const signed = JSON.stringify(original)
  const { tenant, ...rest } = original
  const variants: Array<[string, string]> = [
    ['one byte changed', signed.replace('user-7', 'user-8')],
    ['field order changed', JSON.stringify({ tenant, ...rest })],
    ['reformatted whitespace', JSON.stringify(original, null, 2)],
    ['trailing newline', signed + '\n'],
    ['extra field', JSON.stringify({ ...original, consent: { recording: 'c-1' } })],
    ['name in NFD', signed.replace('José Núñez', 'José Núñez'.normalize('NFD'))],
    ['escaped unicode', signed.replace('é', '\\u00e9')],
    ['empty body', '']
  ]
  for (const [what, tampered] of variants) {
    t.not(tampered, signed, `${what}: differs`)
    const token = await assertion({ body: signed })
    assert401(t, await send(app, `Bearer ${token}`, tampered), what)
    t.equal(lastAuthFailure(logs)?.reason, 'body_mismatch', `${what}: body_mismatch`)
  }
  // NFD signed, NFC sent (the other direction)
  const nfd = signed.replace('José Núñez', 'José Núñez'.normalize('NFD'))
  assert401(t, await send(app, `Bearer ${await assertion({ body: nfd })}`, signed), 'signed NFD, sent NFC')
  t.equal((await send(app, `Bearer ${await assertion({ body: signed })}`, signed)).statusCode, 200, 'control: untouched body')
})

t.test('D-45 htm/htu mismatch: method, path, added query string → 401; Host is not trusted at all', async (t) => {
  const { app, logs } = await buildSec(t)
  assert401(t, await sendClaims(app, (c) => { c.htm = 'PUT' }), 'assertion for PUT, sent as POST')
  assert401(t, await sendClaims(app, (c) => { c.htu = TOKENS }), 'assertion for /v1/tokens, sent to /v1/visits')
  // htu is compared with the full request-target, so a query string breaks the binding (contract §2)
  for (const query of ['?patient=Jane', '?a=1&b=2', '?htu=/v1/visits']) {
    const body = visitRaw()
    assert401(t, await sendToken(app, await assertion({ body }), body, { path: VISITS + query }), `added query ${query}`)
    t.equal(lastAuthFailure(logs)?.reason, 'htu_mismatch', `${query}: htu_mismatch`)
  }
  // the method cannot be swapped on the wire either: other methods on /v1/visits never reach auth
  const body = visitRaw()
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    const res = await send(app, `Bearer ${await assertion({ body, method })}`, body, { method })
    t.equal(res.statusCode, 405, `${method} /v1/visits → 405`)
  }
  // Host: htu is the path only (contract §2), and nothing is built from Host, so a changed Host
  // changes nothing: the links still point at JITSI_BASE_URL (decided with the contract, SECURITY.md)
  const res = await send(app, `Bearer ${await assertion({ body })}`, body, { headers: { host: 'evil.example' } })
  t.equal(res.statusCode, 200, 'changed Host: the assertion still binds the same path')
  for (const p of (res.json() as { participants: Array<{ joinUrl: string }> }).participants) {
    t.equal(new URL(p.joinUrl).origin, 'https://meet.example.org', 'join URL origin from config, never from Host')
  }
  const fwd = await send(app, `Bearer ${await assertion({ body })}`, body, { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' } })
  t.equal(new URL((fwd.json() as { roomUrl: string }).roomUrl).origin, 'https://meet.example.org', 'X-Forwarded-Host ignored')
})

t.test('D-46 body-hash claim missing, wrong length, not base64url → 401', async (t) => {
  const { app, logs } = await buildSec(t)
  const body = visitRaw()
  const good = bodyHash(body)
  const hex = createHash('sha256').update(body).digest('hex')
  const std = Buffer.from(good, 'base64url').toString('base64')
  const cases: Array<[string, unknown]> = [
    ['42 chars', good.slice(0, 42)],
    ['44 chars', good + 'A'],
    ['padded', good + '='],
    ['standard base64', std],
    ['hex', hex],
    ['hash of the empty body', bodyHash('')],
    ['uppercased', good.toUpperCase()],
    ['SHA-512', createHash('sha512').update(body).digest('base64url')],
    ['number', 0],
    ['array', [good]],
    ['empty', '']
  ]
  for (const [what, value] of cases) {
    if (value === good) continue
    assert401(t, await sendClaims(app, (c) => { c.body_sha256 = value }, { body }), `body_sha256 ${what}`)
  }
  assert401(t, await sendClaims(app, (c) => { delete c.body_sha256 }, { body }), 'body_sha256 missing')
  t.equal(lastAuthFailure(logs)?.reason, 'body_mismatch', 'reason body_mismatch')
  // other spellings of the claim name are not the claim
  for (const name of ['body_hash', 'bodySha256', 'ath', 'htb']) {
    assert401(t, await sendClaims(app, (c) => { c[name] = c.body_sha256; delete c.body_sha256 }, { body }), `claim named ${name}`)
  }
})

t.test('D-47 reuse after exp + leeway when the store entry may be gone → 401 expired; entry kept for the whole window', async (t) => {
  let now = NOW_MS
  const store = new MemoryReplayStore(() => now)
  const { app, logs } = await buildSec(t, { build: { nowMs: () => now, replayStore: store } })
  const body = visitRaw()
  const token = hs256Raw(HS_HEADER, { ...goodClaims({ body }), iat: NOW_S, exp: NOW_S + 60 })
  t.equal((await sendToken(app, token, body)).statusCode, 200, 'first use at iat')
  // still inside the acceptance window (exp + 29 s): the store must still remember the jti
  now = (NOW_S + 89) * 1000
  store.sweep()
  assert401(t, await sendToken(app, token, body), 'replayed at exp + 29 s')
  t.equal(lastAuthFailure(logs)?.reason, 'replay', 'refused as replay: store TTL ≥ acceptance window')
  // past the window: the entry may be swept, the assertion is refused as expired anyway
  now = (NOW_S + 91) * 1000
  store.sweep()
  t.equal(store.size, 0, 'entry swept after exp + leeway')
  assert401(t, await sendToken(app, token, body), 'replayed at exp + 31 s')
  t.equal(lastAuthFailure(logs)?.reason, 'expired', 'refused as expired')
})
