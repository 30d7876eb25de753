// Attack catalogue section H — output and leakage (rows 85–90): response headers, the minimum-
// necessary Jitsi token, key separation, the 500 path, a canary scan of every log line and metric.
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import { ConfigError, parseConfig } from '../../src/config.js'
import {
  AUDIT_SECRET, assertion, CLIENTS, EMR_SECRET, JITSI_SECRET, NOW_MS, OTHER_SECRET, ROOM_SECRET, signedPost, testEnv, visitBody
} from '../helper.js'
import { buildSec, goodClaims, HS_HEADER, hs256Raw, send, sendToken, TOKENS, visitRaw, VISITS } from './fixtures.js'

const enc = (s: string) => new TextEncoder().encode(s)
const tokenBody = (over: Record<string, unknown> = {}) => ({ appointmentId: 'pc_eid-1', tenant: 'clinic-a', participant: { role: 'patient', id: 'pid-42', displayName: 'José Núñez' }, ...over })

t.test('H-85 join responses: Cache-Control no-store, Content-Type application/json, nosniff', async (t) => {
  const { app } = await buildSec(t)
  for (const [path, body] of [[VISITS, visitBody()], [TOKENS, tokenBody()]] as const) {
    const res = await signedPost(app, path, body)
    t.equal(res.statusCode, 200, `${path}: 200`)
    t.equal(res.headers['cache-control'], 'no-store', `${path}: Cache-Control no-store`)
    t.match(String(res.headers['content-type']), /^application\/json(;\s*charset=utf-8)?$/iu, `${path}: application/json`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${path}: nosniff`)
    t.notOk('set-cookie' in res.headers, `${path}: no cookies`)
    t.notOk('access-control-allow-origin' in res.headers, `${path}: no CORS grant`)
  }
  // and every other response too
  for (const res of [await app.inject('/healthz'), await app.inject('/nope'), await send(app, undefined, '{}')]) {
    t.equal(res.headers['cache-control'], 'no-store', `${res.statusCode}: no-store`)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${res.statusCode}: nosniff`)
  }
})

t.test('H-86 Jitsi token claims: the contract set only; no email/avatar unless configured; bounded window', async (t) => {
  const { app, config } = await buildSec(t)
  const res = await signedPost(app, VISITS, visitBody({ durationMinutes: 720 }))
  const participants = (res.json() as { participants: Array<{ role: string, token: string }> }).participants
  for (const p of participants) {
    const header = decodeProtectedHeader(p.token)
    t.same(header, { alg: 'HS256', typ: 'JWT' }, `${p.role}: header`)
    const claims = decodeJwt(p.token) as Record<string, unknown>
    // contract §6 (wins over the catalogue's shorter list): moderator + context.features are part of it
    t.same(Object.keys(claims).sort(), ['aud', 'context', 'exp', 'iat', 'iss', 'jti', 'moderator', 'nbf', 'room', 'sub'], `${p.role}: top-level claims`)
    const context = claims.context as { user: Record<string, unknown>, features: Record<string, string> }
    t.same(Object.keys(context).sort(), ['features', 'user'], `${p.role}: context keys`)
    t.same(Object.keys(context.user).sort(), ['affiliation', 'id', 'lobby_bypass', 'moderator', 'name'], `${p.role}: context.user keys (no email, no avatar)`)
    t.ok(Object.values(context.features).every((v) => v === 'true' || v === 'false'), `${p.role}: features are "true"/"false"`)
    t.equal(claims.moderator, p.role === 'provider', `${p.role}: moderator only for the provider`)
    const exp = claims.exp as number
    const nbf = claims.nbf as number
    const maxWindow = (config.maxVisitMinutes + 15 + config.lateGraceMinutes) * 60 + config.nbfSkewSeconds
    t.ok(exp - nbf <= maxWindow, `${p.role}: usable window ${exp - nbf} s ≤ ${maxWindow} s`)
  }
  // ad hoc token: exp − iat is the default TTL
  const adhoc = await signedPost(app, TOKENS, tokenBody())
  const c = decodeJwt((adhoc.json() as { token: string }).token)
  t.equal((c.exp as number) - (c.iat as number), config.defaultTokenTtlSeconds, 'ad hoc: exp − iat = DEFAULT_TOKEN_TTL_SECONDS')
  // email only with JWT_INCLUDE_EMAIL=true
  const withEmail = await buildSec(t, { env: { JWT_INCLUDE_EMAIL: 'true' } })
  const r2 = await signedPost(withEmail.app, VISITS, visitBody())
  const patient = (r2.json() as { participants: Array<{ role: string, token: string }> }).participants.find((p) => p.role === 'patient')
  t.equal(((decodeJwt(patient?.token as string).context as { user: Record<string, unknown> }).user).email, 'jn@example.org', 'email present only when configured')
})

t.test('H-87 the Jitsi key is never an inbound key; HS256 secrets ≥ 32 bytes', async (t) => {
  const { app } = await buildSec(t)
  const res = await signedPost(app, TOKENS, tokenBody())
  const token = (res.json() as { token: string }).token
  await t.resolves(jwtVerify(token, enc(JITSI_SECRET), { algorithms: ['HS256'], currentDate: new Date(NOW_MS) }), 'signed with JWT_APP_SECRET')
  for (const [name, secret] of [['EMR_SECRET', EMR_SECRET], ['OTHER_SECRET', OTHER_SECRET], ['ROOM_NAME_SECRET', ROOM_SECRET], ['AUDIT_HASH_SECRET', AUDIT_SECRET]] as const) {
    await t.rejects(jwtVerify(token, enc(secret), { algorithms: ['HS256'], currentDate: new Date(NOW_MS) }), `not verifiable with ${name}`)
  }
  // an EMR assertion signed with the Jitsi secret is refused (row A-11 from the other side)
  const body = visitRaw()
  t.equal((await sendToken(app, hs256Raw(HS_HEADER, goodClaims({ body }), JITSI_SECRET), body)).statusCode, 401, 'JWT_APP_SECRET does not authenticate an EMR')
  // configuration refuses reuse and short secrets, naming the variable, never the value
  const reuse = CLIENTS.map((c) => c.id === 'openemr-main' ? { ...c, keys: [{ kid: 'k1', alg: 'HS256', secret: JITSI_SECRET }] } : c)
  const bad: Array<[string, Record<string, string>, RegExp, string]> = [
    ['client secret = JWT_APP_SECRET', { CLIENTS_JSON: JSON.stringify(reuse) }, /CLIENTS_JSON/u, JITSI_SECRET],
    ['JWT_APP_SECRET = ROOM_NAME_SECRET', { JWT_APP_SECRET: ROOM_SECRET }, /JWT_APP_SECRET/u, ROOM_SECRET],
    ['31-byte JWT_APP_SECRET', { JWT_APP_SECRET: 'Zq8v3LmN5pR2tW7yB4cF6hJ9kD1sG0x' }, /JWT_APP_SECRET.*32 bytes/u, 'Zq8v3LmN5pR2tW7yB4cF6hJ9kD1sG0x'],
    ['31-byte client secret', { CLIENTS_JSON: JSON.stringify([{ id: 'x', keys: [{ alg: 'HS256', secret: 'Zq8v3LmN5pR2tW7yB4cF6hJ9kD1sG0x' }] }]) }, /CLIENTS_JSON.*32 bytes/u, 'Zq8v3LmN5pR2tW7yB4cF6hJ9kD1sG0x']
  ]
  for (const [what, env, names, value] of bad) {
    let err: unknown
    try { parseConfig(testEnv(env)) } catch (e) { err = e }
    t.ok(err instanceof ConfigError, `${what}: refused`)
    t.match((err as Error).message, names, `${what}: names the setting`)
    t.notOk((err as Error).message.includes(value), `${what}: never prints the value`)
  }
})

t.test('H-88 an unexpected error → 500 problem body with requestId only; the stack goes to the log', async (t) => {
  const { app, logs } = await buildSec(t, { build: { newJti: () => { throw new Error('boom: CANARY-INTERNAL-DETAIL at /srv/app/secret.ts') } } })
  const res = await signedPost(app, VISITS, visitBody())
  t.equal(res.statusCode, 500, '500')
  const body = res.json() as Record<string, unknown>
  t.same(Object.keys(body).sort(), ['code', 'requestId', 'status', 'title', 'type'], 'problem keys only')
  t.match(body, { code: 'internal', status: 500, title: 'Internal Server Error' }, 'internal')
  t.notMatch(res.body, /CANARY-INTERNAL-DETAIL|boom|\bat\s|\.ts|stack/u, 'no message, path or stack in the body')
  t.equal(res.headers['cache-control'], 'no-store', 'no-store')
  const logged = logs.records().find((r) => r.msg === 'unhandled error') as { err?: { stack?: string }, reqId?: string } | undefined
  t.match(logged?.err?.stack ?? '', /CANARY-INTERNAL-DETAIL/u, 'stack in the log')
  t.equal(logged?.reqId, body.requestId, 'log line carries the same request id')
})

t.test('H-89 canary scan: no secret, token, name or email in any log line or metric; every line is single-line JSON', async (t) => {
  const { app, logs } = await buildSec(t, { env: { RATE_LIMIT_AUTH_FAIL_MAX: '30' } })
  const NAME = 'Canary Patientname'
  const EMAIL = 'canary@example.org'
  const sent: string[] = []
  const issued: string[] = []
  const canaryVisit = visitBody({ participants: [{ role: 'provider', id: 'user-7', displayName: 'Dr. Canary Provider' }, { role: 'patient', id: 'pid-42', displayName: NAME, email: EMAIL }] })
  const signed = async (path: string, body: unknown, o: { query?: string, token?: string } = {}) => {
    const raw = JSON.stringify(body)
    const token = o.token ?? await assertion({ body: raw, path: path + (o.query ?? '') })
    sent.push(token)
    return await send(app, `Bearer ${token}`, raw, { path: path + (o.query ?? '') })
  }
  // the whole route surface: successes, every error class, replays, limits
  const ok = await signed(VISITS, canaryVisit)
  t.equal(ok.statusCode, 200, 'visit issued')
  for (const p of (ok.json() as { participants: Array<{ token: string, joinUrl: string }> }).participants) issued.push(p.token, p.joinUrl)
  const tok = await signed(TOKENS, tokenBody({ participant: { role: 'patient', id: 'pid-42', displayName: NAME, email: EMAIL } }))
  t.equal(tok.statusCode, 200, 'token issued')
  issued.push((tok.json() as { token: string }).token)
  const replayToken = sent[0] as string
  await send(app, `Bearer ${replayToken}`, JSON.stringify(canaryVisit))
  await signed(VISITS, { ...canaryVisit, tenant: 'clinic-z' })
  await signed(VISITS, { ...canaryVisit, participants: [{ role: 'patient', id: 'pid-42', displayName: `${NAME}<x>`, email: EMAIL }] })
  await signed(VISITS, { ...canaryVisit, extra: EMAIL })
  await signed(VISITS, canaryVisit, { query: `?name=${encodeURIComponent(NAME)}&email=${EMAIL}` })
  await send(app, `Bearer ${hs256Raw({ ...HS_HEADER, kid: `${NAME}` }, goodClaims({ body: '{}' }))}`, '{}')
  await send(app, `Bearer ${hs256Raw(HS_HEADER, { ...goodClaims({ body: '{}' }), iss: EMAIL })}`, '{}')
  await send(app, `Bearer ${EMR_SECRET}`, '{}')
  await send(app, `Basic ${Buffer.from(`${EMAIL}:${EMR_SECRET}`).toString('base64')}`, '{}')
  await send(app, undefined, JSON.stringify(canaryVisit), { contentType: 'text/plain' })
  await send(app, undefined, 'x'.repeat(20_000) + NAME)
  await app.inject({ method: 'PUT', url: VISITS, payload: JSON.stringify(canaryVisit), headers: { 'content-type': 'application/json', authorization: `Bearer ${replayToken}`, cookie: `session=${EMR_SECRET}` } })
  await app.inject({ url: `/nope/${encodeURIComponent(NAME)}?email=${EMAIL}` })
  for (let i = 0; i < 35; i++) await send(app, `Bearer ${sent[0] as string}x`, '{}')
  const metrics = (await app.inject('/metrics')).body
  await app.inject('/readyz')

  const canaries: Array<[string, string]> = [
    ['JWT_APP_SECRET', JITSI_SECRET], ['ROOM_NAME_SECRET', ROOM_SECRET], ['AUDIT_HASH_SECRET', AUDIT_SECRET], ['EMR secret', EMR_SECRET], ['portal secret', OTHER_SECRET],
    ['display name', NAME], ['display name (URL-encoded)', encodeURIComponent(NAME)], ['email', EMAIL], ['email (URL-encoded)', encodeURIComponent(EMAIL)], ['provider name', 'Canary Provider']
  ]
  for (const tkn of [...sent, ...issued]) canaries.push(['a token or join URL', tkn], ['a token signature', tkn.split('.')[2]?.slice(0, 30) ?? tkn])
  const everything = logs.text + '\n' + metrics
  const hits = canaries.filter(([, v]) => v.length > 0 && everything.includes(v)).map(([what]) => what)
  t.same([...new Set(hits)], [], 'zero canary hits in logs and /metrics')
  t.ok(logs.lines.length > 50, `${logs.lines.length} log lines scanned`)
  let bad = 0
  for (const line of logs.lines) {
    try {
      const rec = JSON.parse(line) as unknown
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) bad++
    } catch { bad++ }
  }
  t.equal(bad, 0, 'every line is one JSON object')
  const completed = logs.records().filter((r) => r.msg === 'request completed')
  t.ok(completed.length >= 50 && completed.every((r) => typeof r.reqId === 'string' && typeof r.route === 'string' && typeof r.status === 'number'), 'each request: one completion line with reqId, route template, status')
  t.notOk(completed.some((r) => String(r.route).includes('?') || String(r.route).includes('Canary')), 'routes are templates, never URLs')
})

t.test('H-90 /metrics: route templates and status classes only, no tenant/room/user values; own port when configured', async (t) => {
  const { app } = await buildSec(t)
  const res = await signedPost(app, VISITS, visitBody({ appointmentId: 'pc_eid-METRICS-1' }))
  const { room } = res.json() as { room: string }
  await signedPost(app, TOKENS, tokenBody({ tenant: 'clinic-b' }))
  await app.inject({ url: '/v1/visits/clinic-a/some-room-name' })
  await app.inject({ url: `/nope-${room}` })
  const metrics = (await app.inject('/metrics')).body
  const series = metrics.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
  const labels = new Map<string, Set<string>>()
  for (const line of series) {
    for (const m of line.matchAll(/([a-z_]+)="([^"]*)"/gu)) {
      const set = labels.get(m[1] as string) ?? new Set<string>()
      set.add(m[2] as string)
      labels.set(m[1] as string, set)
    }
  }
  const allowed = new Set(['method', 'route', 'status_class', 'role', 'reason', 'client', 'scope', 'le', 'quantile', 'version', 'major', 'minor', 'patch', 'kind', 'type', 'space'])
  t.same([...labels.keys()].filter((k) => !allowed.has(k)), [], `label names: ${[...labels.keys()].join(', ')}`)
  for (const v of labels.get('route') ?? []) t.ok(['/v1/visits', '/v1/tokens', '/healthz', '/readyz', '/metrics', '/openapi.json', 'unmatched'].includes(v), `route label ${v} is a template`)
  for (const v of labels.get('status_class') ?? []) t.match(v, /^[1-5]xx$/u, `status class ${v}`)
  for (const v of labels.get('client') ?? []) t.ok(['openemr-main', 'ehr-rsa', 'ehr-ed', 'patient-portal', 'unknown'].includes(v), `client label ${v} is a registry id`)
  for (const secretish of [room, 'clinic-a', 'clinic-b', 'pc_eid-METRICS-1', 'emr-user-1', 'user-7', 'pid-42', 'José', 'Ada Smith', 'some-room-name']) {
    t.notOk(metrics.includes(secretish), `no "${secretish}" in /metrics`)
  }
  // METRICS_PORT set: the main port (what the ingress exposes) has no /metrics
  const separate = await buildSec(t, { env: { METRICS_PORT: '9464' } })
  t.equal((await separate.app.inject('/metrics')).statusCode, 404, 'METRICS_PORT set: /metrics absent from the main port')
})
