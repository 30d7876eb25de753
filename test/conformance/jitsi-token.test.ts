// Jitsi conformance (jitsi-token-rules.md §2–§7): every token the service issues, over every role,
// every URL mode, both signing modes and fast-check-generated visits, is one Prosody accepts.
import type { KeyObject } from 'node:crypto'
import fc from 'fast-check'
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import type { Config } from '../../src/config.js'
import { conformanceViolations, type Expectation } from '../fixtures/jitsi-conformance.js'
import { jitsiRsa, rs256Env } from '../fixtures/jitsi-rs256.js'
import { JITSI_SECRET, NOW_S, build, ed, iso, rsa, signedPost } from '../helper.js'

const HS_KEY = new TextEncoder().encode(JITSI_SECRET)
const ROLES = ['provider', 'patient', 'caregiver', 'interpreter', 'observer'] as const
type Role = typeof ROLES[number]

/** Contract §6 role table, by hand: what each role's token must grant. */
const ROLE_TABLE: Record<Role, { moderator: boolean, lobbyBypass: boolean, earlyMin: number, features: string[] }> = {
  provider: { moderator: true, lobbyBypass: true, earlyMin: 15, features: ['screen-sharing', 'send-groupchat', 'create-polls', 'lobby', 'moderation'] },
  patient: { moderator: false, lobbyBypass: false, earlyMin: 10, features: ['screen-sharing', 'send-groupchat'] },
  caregiver: { moderator: false, lobbyBypass: false, earlyMin: 10, features: ['screen-sharing', 'send-groupchat'] },
  interpreter: { moderator: false, lobbyBypass: true, earlyMin: 15, features: ['send-groupchat'] },
  observer: { moderator: false, lobbyBypass: false, earlyMin: 10, features: [] }
}

interface Participant { role: Role, id: string, displayName: string, email?: string }
interface IssuedParticipant { role: Role, id: string, token: string, joinUrl: string, moderator: boolean, lobbyBypass: boolean }

const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function everyRole (): Participant[] {
  return ROLES.map((role, i) => ({ role, id: `${role}-${i}`, displayName: ['Dr. Ada Smith', "Siobhán O'Brien", 'Nguyễn Thị Minh Khai', '李小龍', 'محمد'][i] as string, email: `${role}@example.org` }))
}

async function checkAll (t: Test, config: Readonly<Config>, key: KeyObject | Uint8Array, tenant: string | undefined, sent: Participant[], got: IssuedParticipant[]) {
  t.equal(got.length, sent.length, 'one link per participant')
  for (const [i, p] of sent.entries()) {
    const issued = got[i] as IssuedParticipant
    const x: Expectation = { config, key, now: NOW_S, tenant, participant: p }
    t.strictSame(await conformanceViolations(issued.token, issued.joinUrl, x), [], `${p.role} ${p.id} conforms`)
  }
}

/** The per-role grants of contract §6, for visits with recording consent. */
function roleViolations (role: Role, token: string, consent: boolean, startS: number, endS: number): string[] {
  const c = decode(token)
  const r = ROLE_TABLE[role]
  const v: string[] = []
  if (c.moderator !== r.moderator) v.push('moderator')
  if (c.context.user.lobby_bypass !== r.lobbyBypass) v.push('lobby_bypass')
  const granted = Object.entries(c.context.features).filter(([, val]) => val === 'true').map(([k]) => k).sort()
  const want = [...r.features, ...(consent && role === 'provider' ? ['recording', 'transcription'] : [])].sort()
  if (JSON.stringify(granted) !== JSON.stringify(want)) v.push(`features ${granted.join(',')}`)
  if (c.nbf !== Math.max(NOW_S, startS - r.earlyMin * 60) - 30) v.push('nbf')
  if (c.exp !== endS + 30 * 60) v.push('exp')
  return v
}

t.test('the checker fails tokens that break the rules (the suite can fail)', async (t) => {
  const { config } = await build(t)
  const participant = { role: 'patient', id: 'pid-42', displayName: 'P' }
  const good = {
    iss: 'openemr_telehealth', aud: 'jitsi', sub: 'clinic-a', room: 'abc', iat: NOW_S, nbf: NOW_S - 30, exp: NOW_S + 60, jti: 'j'.repeat(22), moderator: false,
    context: { user: { id: 'pid-42', name: 'P', moderator: false, affiliation: 'member', lobby_bypass: false }, features: Object.fromEntries(['screen-sharing', 'send-groupchat', 'recording', 'transcription', 'livestreaming', 'outbound-call', 'sip-outbound-call', 'inbound-call', 'sip-inbound-call', 'create-polls', 'file-upload', 'lobby', 'moderation', 'list-visitors'].map((k) => [k, 'false'])) }
  }
  const sign = async (claims: object, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) => await new SignJWT({ ...claims }).setProtectedHeader(header as { alg: string }).sign(HS_KEY)
  const url = (token: string, room = 'abc') => `https://meet.example.org/clinic-a/${room}?jwt=${token}`
  const x = { config, key: HS_KEY, now: NOW_S, tenant: 'clinic-a', participant }
  const ok = await sign(good)
  t.strictSame(await conformanceViolations(ok, url(ok), x), [], 'a hand-made conforming token passes')
  const bad: Array<[string, object, Record<string, unknown>?]> = [
    ['aud array', { ...good, aud: ['jitsi'] }],
    ['moderator as string', { ...good, moderator: 'false' }],
    ['moderator differs', { ...good, moderator: true }],
    ['lobby_bypass as string', { ...good, context: { ...good.context, user: { ...good.context.user, lobby_bypass: 'true' } } }],
    ['missing feature key', { ...good, context: { ...good.context, features: { ...good.context.features, 'send-groupchat': undefined } } }],
    ['boolean feature', { ...good, context: { ...good.context, features: { ...good.context.features, lobby: false } } }],
    ['uppercase room', { ...good, room: 'ABC' }],
    ['wildcard sub', { ...good, sub: '*' }],
    ['exp as string', { ...good, exp: String(NOW_S + 60) }],
    ['fractional nbf', { ...good, nbf: NOW_S - 0.5 }],
    ['expired', { ...good, exp: NOW_S }],
    ['PHI claim', { ...good, appointmentId: 'pc_eid-1' }],
    ['email without JWT_INCLUDE_EMAIL', { ...good, context: { ...good.context, user: { ...good.context.user, email: 'p@example.org' } } }],
    ['header without typ', good, { alg: 'HS256' }],
    ['header with kid in HS256 mode', good, { alg: 'HS256', typ: 'JWT', kid: 'k' }]
  ]
  for (const [name, claims, header] of bad) {
    const token = await sign(claims, header)
    t.not((await conformanceViolations(token, url(token), x)).length, 0, name)
  }
  t.not((await conformanceViolations(ok, url(ok, 'xyz'), x)).length, 0, 'room is not the URL segment')
  t.not((await conformanceViolations(ok, `${url(ok)}&jwt=${ok}`, x)).length, 0, 'two jwt parameters')
  t.not((await conformanceViolations(ok, `https://evil.example.org/clinic-a/abc?jwt=${ok}`, x)).length, 0, 'other origin')
  t.not((await conformanceViolations(ok, `https://meet.example.org/clinic-a/abc#jwt=${ok}`, x)).length, 0, 'bare fragment in query mode')
  const forged = await new SignJWT({ ...good }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode('another-secret-of-enough-length-000'))
  t.not((await conformanceViolations(forged, url(forged), x)).length, 0, 'wrong key')
})

t.test('POST /v1/visits: every role conforms, with the grants of contract §6', async (t) => {
  const { app, config } = await build(t)
  const participants = everyRole()
  const start = NOW_S + 3600
  const res = await signedPost(app, '/v1/visits', { appointmentId: 'pc_eid-12345', tenant: 'clinic-a', start: iso(start), durationMinutes: 30, participants, consent: { recording: 'consent-form-991' } })
  t.equal(res.statusCode, 200)
  const body = res.json()
  await checkAll(t, config, HS_KEY, 'clinic-a', participants, body.participants)
  for (const p of body.participants as IssuedParticipant[]) {
    t.strictSame(roleViolations(p.role, p.token, true, start, start + 1800), [], `${p.role} grants`)
    t.equal(p.moderator, ROLE_TABLE[p.role].moderator, 'response moderator matches the token')
    t.equal(p.lobbyBypass, ROLE_TABLE[p.role].lobbyBypass, 'response lobbyBypass matches the token')
  }
  t.equal(new Set((body.participants as IssuedParticipant[]).map((p) => decode(p.token).room)).size, 1, 'one room for the visit')
  t.equal(body.roomUrl, `https://meet.example.org/clinic-a/${body.room}`)
})

t.test('POST /v1/tokens: every role conforms, scheduled and ad hoc', async (t) => {
  const { app, config } = await build(t)
  for (const p of everyRole()) {
    const scheduled = await signedPost(app, '/v1/tokens', { appointmentId: 'pc_eid-12345', tenant: 'clinic-b', participant: p, start: iso(NOW_S + 600), end: iso(NOW_S + 2400) })
    t.equal(scheduled.statusCode, 200)
    const s = scheduled.json()
    t.strictSame(await conformanceViolations(s.token, s.joinUrl, { config, key: HS_KEY, now: NOW_S, tenant: 'clinic-b', participant: p }), [], `${p.role} scheduled`)
    t.strictSame(roleViolations(p.role, s.token, false, NOW_S + 600, NOW_S + 2400), [], `${p.role} scheduled grants`)
    const adHoc = await signedPost(app, '/v1/tokens', { appointmentId: 'pc_eid-12345', tenant: 'clinic-a', participant: p })
    t.equal(adHoc.statusCode, 200)
    const a = adHoc.json()
    t.strictSame(await conformanceViolations(a.token, a.joinUrl, { config, key: HS_KEY, now: NOW_S, tenant: 'clinic-a', participant: p }), [], `${p.role} ad hoc`)
    t.strictSame([decode(a.token).nbf, decode(a.token).exp], [NOW_S - 30, NOW_S + 3600], 'ad-hoc window')
  }
})

t.test('RS256 mode: header carries kid, tokens verify with the public key', async (t) => {
  const { app, config } = await build(t, { env: rs256Env(t) })
  const participants = everyRole()
  const res = await signedPost(app, '/v1/visits', { appointmentId: 'a-1', tenant: 'clinic-a', start: iso(NOW_S + 60), durationMinutes: 45, participants })
  t.equal(res.statusCode, 200)
  await checkAll(t, config, jitsiRsa.publicKey, 'clinic-a', participants, res.json().participants)
  const tok = await signedPost(app, '/v1/tokens', { appointmentId: 'a-1', tenant: 'clinic-a', participant: participants[1] })
  t.strictSame(await conformanceViolations(tok.json().token, tok.json().joinUrl, { config, key: jitsiRsa.publicKey, now: NOW_S, tenant: 'clinic-a', participant: participants[1] as Participant }), [])
})

t.test('fragment mode: #jwt=%22<token>%22 and no query', async (t) => {
  const { app, config } = await build(t, { env: { TOKEN_IN_URL: 'fragment' } })
  const participants = everyRole()
  const res = await signedPost(app, '/v1/visits', { appointmentId: 'a-2', tenant: 'clinic-b', start: iso(NOW_S), durationMinutes: 20, participants })
  t.equal(res.statusCode, 200)
  await checkAll(t, config, HS_KEY, 'clinic-b', participants, res.json().participants)
  t.match(res.json().participants[0].joinUrl, /#jwt=%22[\w-]+\.[\w-]+\.[\w-]+%22$/u)
})

t.test('JWT_INCLUDE_EMAIL=true: email in context.user exactly when given', async (t) => {
  const { app, config } = await build(t, { env: { JWT_INCLUDE_EMAIL: 'true' } })
  const participants: Participant[] = [{ role: 'provider', id: 'u1', displayName: 'A', email: 'a@example.org' }, { role: 'patient', id: 'u2', displayName: 'B' }]
  const res = await signedPost(app, '/v1/visits', { appointmentId: 'a-3', tenant: 'clinic-a', start: iso(NOW_S), durationMinutes: 20, participants })
  await checkAll(t, config, HS_KEY, 'clinic-a', participants, res.json().participants)
  t.equal(decode(res.json().participants[0].token).context.user.email, 'a@example.org')
})

t.test('no tenant: sub is JWT_SUBJECT and the URL path is /room', async (t) => {
  const { app, config } = await build(t, { env: { JITSI_BASE_URL: 'https://example.org/jitsi/' } })
  const participants = everyRole()
  const res = await signedPost(app, '/v1/visits', { appointmentId: 'a-4', start: iso(NOW_S), durationMinutes: 20, participants }, { iss: 'ehr-ed', alg: 'EdDSA', key: ed.privateKey, header: { kid: undefined } })
  t.equal(res.statusCode, 200)
  await checkAll(t, config, HS_KEY, undefined, participants, res.json().participants)
  t.equal(decode(res.json().participants[0].token).sub, 'meet.jitsi')
  t.match(res.json().participants[0].joinUrl, /^https:\/\/example\.org\/jitsi\/[a-z2-7]{26}\?jwt=/u)
})

t.test('custom room (allowCustomRooms client) conforms too', async (t) => {
  const { app, config } = await build(t, { env: { ROOM_NAME_PREFIX: 'tele-' } })
  const p: Participant = { role: 'patient', id: 'pid-9', displayName: 'Zoë Saldaña' }
  const res = await signedPost(app, '/v1/tokens', { room: 'weekly-group-3', tenant: 'clinic-z', participant: p }, { iss: 'ehr-rsa', alg: 'RS256', key: rsa.privateKey, header: { kid: 'r1' } })
  t.equal(res.statusCode, 200)
  t.strictSame(await conformanceViolations(res.json().token, res.json().joinUrl, { config, key: HS_KEY, now: NOW_S, tenant: 'clinic-z', participant: p }), [])
  t.equal(decode(res.json().token).room, 'weekly-group-3')
})

t.test('a tenant the schema accepts never answers 500', async (t) => {
  const { app, config } = await build(t)
  const p: Participant = { role: 'patient', id: 'p-1', displayName: 'P' }
  for (const tenant of ['0', 'a-b', 'clinic-', '-', '-clinic']) {
    const res = await signedPost(app, '/v1/visits', { appointmentId: 'a-5', tenant, start: iso(NOW_S), durationMinutes: 20, participants: [p] }, { iss: 'ehr-rsa', alg: 'RS256', key: rsa.privateKey, header: { kid: 'r1' } })
    t.ok(res.statusCode === 200 || res.statusCode === 400, `tenant ${JSON.stringify(tenant)}: 200 or 400, got ${res.statusCode}`)
    if (res.statusCode === 200) t.strictSame(await conformanceViolations(res.json().participants[0].token, res.json().participants[0].joinUrl, { config, key: HS_KEY, now: NOW_S, tenant, participant: p }), [], `tenant ${JSON.stringify(tenant)} conforms`)
  }
})

// ---- property-based: fast-check generated valid visits -----------------------------------------

const NAMES = [
  "O'Brien", 'Nguyễn Thị Minh Khai', '李小龍', 'محمد', 'José Núñez', 'Dr. Ada Smith', 'Zoë Saldaña', 'Ørsted', 'Αλέξανδρος Παπαδόπουλος',
  'Đặng Văn Lâm', 'Jean-Luc Picard', 'زهرا\u200Cی احمدی', 'प्रिया शर्मा', '김민준', 'Łukasz Żółć', "Ngũgĩ wa Thiong'o", 'Mary-Kate O’Neil Jr.',
  'Jose\u0301 Nu\u0301n\u0303ez', 'Ἀριστοτέλης', 'Þórunn Ásdís', 'Иван Петров', 'שרה כהן', 'Nkosazana Dlamini-Zuma', 'Søren Kierkegaard', 'Dr. med. Müller-Lüdenscheidt'
]
const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:@-'.split('')
const APPT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-'.split('')

const participantArb: fc.Arbitrary<Participant> = fc.record({
  role: fc.constantFrom(...ROLES),
  id: fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 128 }),
  displayName: fc.constantFrom(...NAMES),
  email: fc.option(fc.constantFrom('a@example.org', 'jn@example.org', 'x.y+z@clinic.example'), { nil: undefined })
}, { requiredKeys: ['role', 'id', 'displayName'] })

const visitArb = fc.record({
  appointmentId: fc.string({ unit: fc.constantFrom(...APPT_CHARS), minLength: 1, maxLength: 128 }),
  tenant: fc.constantFrom('clinic-a', 'clinic-b'),
  // from 30 minutes ago (still joinable) to 30 days ahead
  startOffset: fc.integer({ min: -30 * 60, max: 30 * 86400 }),
  durationMinutes: fc.integer({ min: 1, max: 720 }),
  useEnd: fc.boolean(),
  participants: fc.array(participantArb, { minLength: 1, maxLength: 20 }),
  consent: fc.boolean()
})

t.test('property: ~100 generated visits, every token conforms', async (t) => {
  const { app, config } = await build(t)
  let runs = 0
  await fc.assert(fc.asyncProperty(visitArb, async (g) => {
    runs++
    const start = NOW_S + g.startOffset
    const body = {
      appointmentId: g.appointmentId,
      tenant: g.tenant,
      start: iso(start),
      ...(g.useEnd ? { end: iso(start + g.durationMinutes * 60) } : { durationMinutes: g.durationMinutes }),
      participants: g.participants,
      ...(g.consent ? { consent: { recording: 'consent-ref-1' } } : {})
    }
    const res = await signedPost(app, '/v1/visits', body)
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`)
    const got = res.json().participants as IssuedParticipant[]
    if (got.length !== g.participants.length) throw new Error('participant count')
    const rooms = new Set<string>()
    for (const [i, p] of g.participants.entries()) {
      const issued = got[i] as IssuedParticipant
      if (issued.role !== p.role || issued.id !== p.id) throw new Error(`order broken at ${i}`)
      const v = [
        ...await conformanceViolations(issued.token, issued.joinUrl, { config, key: HS_KEY, now: NOW_S, tenant: g.tenant, participant: p }),
        ...roleViolations(p.role, issued.token, g.consent, start, start + g.durationMinutes * 60)
      ]
      if (v.length > 0) throw new Error(`${p.role} ${JSON.stringify(p.displayName)}: ${v.join('; ')}`)
      rooms.add(decode(issued.token).room)
    }
    if (rooms.size !== 1) throw new Error('several rooms in one visit')
  }), { numRuns: 100 })
  t.equal(runs, 100)
})
