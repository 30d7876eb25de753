// POST /v1/visits through app.inject: exact responses at a frozen instant, tokens verified with jose.
import { createHash } from 'node:crypto'
import { jwtVerify, SignJWT, base64url } from 'jose'
import t from 'tap'
import { AUDIT_SECRET, JITSI_SECRET, NOW_S, assertion, build, iso, rsa, signedPost, visitBody } from '../../helper.js'

const jitsiKey = new TextEncoder().encode(JITSI_SECRET)
let n = 0
const deterministicJti = () => `jti-${++n}`

t.test('200: links for every participant, in request order, exact body and claims', async (t) => {
  const { app } = await build(t, { build: { newJti: deterministicJti } })
  const res = await signedPost(app, '/v1/visits', visitBody())
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.match(body.room, /^[a-z2-7]{26}$/)
  const roomUrl = `https://meet.example.org/clinic-a/${body.room as string}`
  const [provider, patient] = body.participants
  t.same(body, {
    room: body.room,
    tenant: 'clinic-a',
    roomUrl,
    start: iso(NOW_S + 3600),
    end: iso(NOW_S + 3600 + 1800),
    participants: [
      { role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith', moderator: true, lobbyBypass: true, notBefore: iso(NOW_S + 3600 - 900 - 30), expiresAt: iso(NOW_S + 5400 + 1800), token: provider.token, joinUrl: `${roomUrl}?jwt=${provider.token as string}` },
      { role: 'patient', id: 'pid-42', displayName: 'José Núñez', moderator: false, lobbyBypass: false, notBefore: iso(NOW_S + 3600 - 600 - 30), expiresAt: iso(NOW_S + 5400 + 1800), token: patient.token, joinUrl: `${roomUrl}?jwt=${patient.token as string}` }
    ]
  })
  const { payload, protectedHeader } = await jwtVerify(patient.token, jitsiKey, { algorithms: ['HS256'], currentDate: new Date((NOW_S + 3600) * 1000) })
  t.same(protectedHeader, { alg: 'HS256', typ: 'JWT' })
  t.same(payload, {
    iss: 'openemr_telehealth',
    aud: 'jitsi',
    sub: 'clinic-a',
    room: body.room,
    iat: NOW_S,
    nbf: NOW_S + 3600 - 600 - 30,
    exp: NOW_S + 5400 + 1800,
    jti: payload.jti,
    moderator: false,
    context: {
      user: { id: 'pid-42', name: 'José Núñez', moderator: false, affiliation: 'member', lobby_bypass: false },
      features: {
        'screen-sharing': 'true', 'send-groupchat': 'true', recording: 'false', transcription: 'false', livestreaming: 'false',
        'outbound-call': 'false', 'sip-outbound-call': 'false', 'inbound-call': 'false', 'sip-inbound-call': 'false',
        'create-polls': 'false', 'file-upload': 'false', lobby: 'false', moderation: 'false', 'list-visitors': 'false'
      }
    }
  })
  t.match(payload.jti, /^jti-\d+$/, 'jti comes from the generator')
})

t.test('same (tenant, appointmentId) → same room, fresh tokens; other tenant → other room', async (t) => {
  const { app } = await build(t)
  const a = (await signedPost(app, '/v1/visits', visitBody())).json()
  const b = (await signedPost(app, '/v1/visits', visitBody())).json()
  const c = (await signedPost(app, '/v1/visits', visitBody({ tenant: 'clinic-b' }))).json()
  t.equal(a.room, b.room)
  t.not(a.participants[0].token, b.participants[0].token)
  t.not(a.room, c.room)
})

t.test('recording features only for the provider and only with consent', async (t) => {
  const { app } = await build(t)
  const withConsent = (await signedPost(app, '/v1/visits', visitBody({ consent: { recording: 'consent-form-991' } }))).json()
  const features = async (token: string) => (await jwtVerify(token, jitsiKey, { currentDate: new Date((NOW_S + 3600) * 1000) })).payload.context as { features: Record<string, string> }
  t.equal((await features(withConsent.participants[0].token)).features.recording, 'true')
  t.equal((await features(withConsent.participants[0].token)).features.transcription, 'true')
  t.equal((await features(withConsent.participants[1].token)).features.recording, 'false')
  const without = (await signedPost(app, '/v1/visits', visitBody())).json()
  t.equal((await features(without.participants[0].token)).features.recording, 'false')
})

t.test('fragment join URLs and email opt-in', async (t) => {
  const { app } = await build(t, { env: { TOKEN_IN_URL: 'fragment', JWT_INCLUDE_EMAIL: 'true' } })
  const body = (await signedPost(app, '/v1/visits', visitBody())).json()
  const patient = body.participants[1]
  t.equal(patient.joinUrl, `${body.roomUrl as string}#jwt=%22${patient.token as string}%22`)
  const { payload } = await jwtVerify(patient.token, jitsiKey, { currentDate: new Date((NOW_S + 3600) * 1000) })
  t.equal((payload.context as { user: { email: string } }).user.email, 'jn@example.org')
})

t.test('tenant-less visit uses JWT_SUBJECT as sub and no tenant path', async (t) => {
  const { app } = await build(t)
  const { tenant: _omit, ...noTenant } = visitBody()
  const res = await signedPost(app, '/v1/visits', noTenant, { iss: 'ehr-ed', key: (await import('../../helper.js')).ed.privateKey, alg: 'EdDSA', header: { kid: undefined } })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.roomUrl, `https://meet.example.org/${body.room as string}`)
  const { payload } = await jwtVerify(body.participants[0].token, jitsiKey, { currentDate: new Date((NOW_S + 3600) * 1000) })
  t.equal(payload.sub, 'meet.jitsi')
})

t.test('401: every authentication failure has the same body and WWW-Authenticate', async (t) => {
  const { app, logs } = await build(t)
  const body = JSON.stringify(visitBody())
  const cases: Record<string, () => Promise<Record<string, string>>> = {
    'no header': async () => ({}),
    'alg none': async () => {
      const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'emr-request+jwt' }))
      const claims = base64url.encode(JSON.stringify({ iss: 'openemr-main', sub: 'u', aud: 'jitsi-token-service', iat: NOW_S, exp: NOW_S + 60, jti: 'x'.repeat(16), htm: 'POST', htu: '/v1/visits', body_sha256: createHash('sha256').update(body).digest('base64url') }))
      return { authorization: `Bearer ${header}.${claims}.` }
    },
    'wrong htu': async () => ({ authorization: `Bearer ${await assertion({ path: '/v1/tokens', body })}` }),
    'tampered body': async () => ({ authorization: `Bearer ${await assertion({ body: body.replace('Ada', 'Eve') })}` }),
    'expired': async () => ({ authorization: `Bearer ${await assertion({ body, claims: { iat: NOW_S - 400, exp: NOW_S - 100 } })}` }),
    'HS256 signed with the registered RSA public key': async () => {
      const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
      const claims = { iss: 'ehr-rsa', sub: 'u', aud: 'jitsi-token-service', iat: NOW_S, exp: NOW_S + 60, jti: 'confusion-attack-0001', htm: 'POST', htu: '/v1/visits', body_sha256: createHash('sha256').update(body).digest('base64url') }
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'emr-request+jwt', kid: 'r1' }).sign(new TextEncoder().encode(pem))
      return { authorization: `Bearer ${token}` }
    },
    'wrong typ (a Jitsi-style JWT)': async () => ({ authorization: `Bearer ${await assertion({ body, header: { typ: 'JWT' } })}` })
  }
  const bodies = new Set<string>()
  for (const [name, headers] of Object.entries(cases)) {
    const res = await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', ...(await headers()) }, payload: body })
    t.equal(res.statusCode, 401, name)
    t.equal(res.headers['www-authenticate'], 'Bearer error="invalid_token"', name)
    t.match(res.headers['content-type'], /^application\/problem\+json/, name)
    const { requestId, ...rest } = res.json()
    t.equal(requestId, res.headers['x-request-id'], name)
    bodies.add(JSON.stringify(rest))
  }
  t.same([...bodies], [JSON.stringify({ type: 'urn:jitsi-token-service:problem:invalid_token', title: 'Unauthorized', status: 401, code: 'invalid_token' })])
  t.match(logs.text, /"reason":"alg_mismatch"/)
  t.match(logs.text, /"reason":"htu_mismatch"/)
  t.match(logs.text, /"reason":"body_mismatch"/)
  t.match(logs.text, /"reason":"expired"/)
  t.match(logs.text, /"reason":"wrong_type"/)
})

t.test('401 on a replayed assertion', async (t) => {
  const { app, logs } = await build(t)
  const payload = JSON.stringify(visitBody())
  const token = await assertion({ body: payload })
  const send = () => app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload })
  t.equal((await send()).statusCode, 200)
  t.equal((await send()).statusCode, 401)
  t.match(logs.text, /"reason":"replay"/)
})

t.test('401 before any schema check: an unauthenticated caller learns nothing about the schema', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json' }, payload: '{"nonsense":true}' })
  t.equal(res.statusCode, 401)
  t.notOk(res.json().errors)
})

t.test('400: unknown fields are refused by name, never echoed by value', async (t) => {
  const { app } = await build(t)
  for (const extra of [{ moderator: true }, { room: '*' }, { exp: 9999999999 }]) {
    const res = await signedPost(app, '/v1/visits', visitBody(extra))
    t.equal(res.statusCode, 400)
    const key = Object.keys(extra)[0] as string
    t.same(res.json().errors, [{ path: `/${key}`, rule: 'unknown_field' }])
    t.notMatch(res.body, /9999999999|\*/)
  }
  const nested = await signedPost(app, '/v1/visits', visitBody({ participants: [{ role: 'patient', id: 'p', displayName: 'P', moderator: true }] }))
  t.same(nested.json().errors, [{ path: '/participants/0/moderator', rule: 'unknown_field' }])
})

t.test('400: display names — real names pass, disguising characters fail', async (t) => {
  const { app } = await build(t)
  const names = ["O'Brien", 'Nguyễn Thị Minh Khai', '李小龍', 'محمد', 'Zoë-Anne', 'فاطمه\u200Cزاده', 'e\u0301'.repeat(64)]
  for (const displayName of names) {
    const res = await signedPost(app, '/v1/visits', visitBody({ participants: [{ role: 'patient', id: 'p-1', displayName }] }))
    t.equal(res.statusCode, 200, `accepts ${JSON.stringify(displayName)}`)
  }
  const nfd = (await signedPost(app, '/v1/visits', visitBody({ participants: [{ role: 'patient', id: 'p-1', displayName: 'Jose\u0301' }] }))).json()
  t.equal(nfd.participants[0].displayName, 'José', 'normalised to NFC')
  const bad: Array<[string, string]> = [
    ['', 'not_blank'], ['   ', 'not_blank'], ['a'.repeat(65), 'max_code_points'], ['\u{1F600}'.repeat(65), 'max_code_points'],
    ['Eve\u202Emalicious', 'forbidden_character'], ['Eve\u200Bx', 'forbidden_character'], ['<script>', 'forbidden_character'],
    ['line\nbreak', 'forbidden_character'], ['nul\u0000', 'forbidden_character'], ['\uFEFFbom', 'forbidden_character']
  ]
  for (const [displayName, rule] of bad) {
    const res = await signedPost(app, '/v1/visits', visitBody({ participants: [{ role: 'patient', id: 'p-1', displayName }] }))
    t.equal(res.statusCode, 400, `rejects ${JSON.stringify(displayName)}`)
    t.same(res.json().errors, [{ path: '/participants/0/displayName', rule }])
  }
  t.equal((await signedPost(app, '/v1/visits', visitBody({ participants: [{ role: 'patient', id: 'p-1', displayName: '\u{1F600}'.repeat(64) }] }))).statusCode, 200, '64 emoji = 64 code points')
})

t.test('400: schedule rules and visit_ended', async (t) => {
  const { app } = await build(t)
  const both = await signedPost(app, '/v1/visits', visitBody({ end: iso(NOW_S + 7200) }))
  t.same(both.json().errors, [{ path: '', rule: 'end_xor_duration' }])
  const backwards = await signedPost(app, '/v1/visits', visitBody({ durationMinutes: undefined, end: iso(NOW_S + 3000) }))
  t.same(backwards.json().errors, [{ path: '/end', rule: 'after_start' }])
  const tooLong = await signedPost(app, '/v1/visits', visitBody({ durationMinutes: 721 }))
  t.same(tooLong.json().errors, [{ path: '/durationMinutes', rule: 'max_visit_minutes' }])
  const farAhead = await signedPost(app, '/v1/visits', visitBody({ start: iso(NOW_S + 91 * 86400) }))
  t.same(farAhead.json().errors, [{ path: '/start', rule: 'max_advance_days' }])
  const ended = await signedPost(app, '/v1/visits', visitBody({ start: iso(NOW_S - 7200), durationMinutes: 60 }))
  t.equal(ended.statusCode, 400)
  t.equal(ended.json().code, 'visit_ended')
  const inGrace = await signedPost(app, '/v1/visits', visitBody({ start: iso(NOW_S - 5400), durationMinutes: 70 }))
  t.equal(inGrace.statusCode, 200, 'still joinable inside the late grace')
  const noOffset = await signedPost(app, '/v1/visits', visitBody({ start: '2026-11-21T16:00:00' }))
  t.same(noOffset.json().errors, [{ path: '/start', rule: 'invalid_format' }])
})

t.test('403: tenant and role allow-lists per client', async (t) => {
  const { app, logs } = await build(t)
  const otherTenant = await signedPost(app, '/v1/visits', visitBody({ tenant: 'clinic-z' }))
  t.equal(otherTenant.statusCode, 403)
  t.equal(otherTenant.json().code, 'forbidden')
  const { tenant: _omit, ...noTenant } = visitBody()
  t.equal((await signedPost(app, '/v1/visits', noTenant)).statusCode, 403, 'tenant-less needs "*" or no tenants')
  const portal = await signedPost(app, '/v1/visits', visitBody(), { iss: 'patient-portal', key: new TextEncoder().encode((await import('../../helper.js')).OTHER_SECRET), header: { kid: undefined } })
  t.equal(portal.statusCode, 403, 'patient-portal may not mint provider links')
  t.match(logs.text, /"event":"request_denied".*"status":403/)
})

t.test('413 and 415 come before authentication', async (t) => {
  const { app } = await build(t)
  const big = await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ pad: 'x'.repeat(17000) }) })
  t.equal(big.statusCode, 413)
  t.equal(big.json().code, 'payload_too_large')
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json-patch+json']) {
    const res = await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': type }, payload: 'x=1' })
    t.equal(res.statusCode, 415, type)
    t.equal(res.json().code, 'unsupported_media_type')
  }
  const mixedCase = await signedPost(app, '/v1/visits', visitBody(), { contentType: 'Application/JSON; charset=UTF-8' })
  t.equal(mixedCase.statusCode, 200, 'media types are case-insensitive')
})

t.test('400 for JSON the strict parser refuses, after authentication', async (t) => {
  const { app } = await build(t)
  const dup = '{"appointmentId":"a","appointmentId":"b"}'
  const res = await signedPost(app, '/v1/visits', undefined, { rawBody: dup })
  t.equal(res.statusCode, 400)
  t.same(res.json().errors, [{ path: '/appointmentId', rule: 'duplicate_key' }])
  const proto = await signedPost(app, '/v1/visits', undefined, { rawBody: '{"__proto__":{"admin":true}}' })
  t.same(proto.json().errors, [{ path: '/__proto__', rule: 'forbidden_key' }])
  t.equal(({} as Record<string, unknown>).admin, undefined)
})

t.test('audit: one event per issued token with a keyed participant hash, no names', async (t) => {
  const { app, logs } = await build(t)
  await signedPost(app, '/v1/visits', visitBody())
  const audit = logs.records().filter((r) => r.audit === true && r.event === 'token_issued')
  t.equal(audit.length, 2)
  const { createHmac } = await import('node:crypto')
  t.equal(audit[1]?.participant, createHmac('sha256', AUDIT_SECRET).update('pid-42').digest('base64url').slice(0, 22))
  t.match(audit[0], { clientId: 'openemr-main', emrSub: 'emr-user-1', tenant: 'clinic-a', role: 'provider', outcome: 'issued' })
  t.notMatch(logs.text, /pid-42|José|Dr\. Ada|jn@example\.org|eyJ/)
})
