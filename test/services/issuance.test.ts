// Issuance without Fastify: authorised request in, signed tokens and join links out, frozen clock.
import { decodeProtectedHeader, jwtVerify } from 'jose'
import t from 'tap'
import type { Client } from '../../src/config/clients.js'
import type { Config } from '../../src/config.js'
import { ApiError } from '../../src/errors.js'
import { TokenRequestSchema, type TokenRequest } from '../../src/schemas/tokens.js'
import { VisitRequestSchema, type VisitRequest } from '../../src/schemas/visits.js'
import type { JitsiClaims } from '../../src/services/claims.js'
import { issueToken, issueVisit, type IssueContext } from '../../src/services/issuance.js'
import { roomName } from '../../src/services/room-name.js'
import { createSigner, type Signer } from '../../src/services/signer.js'
import { JITSI_SECRET, NOW_S, ROOM_SECRET, iso, testConfig, visitBody } from '../helper.js'

const KEY = new TextEncoder().encode(JITSI_SECRET)

function context (config: Readonly<Config> = testConfig(), signer: Signer = createSigner(config.jwt)): IssueContext {
  let n = 0
  return { config, signer, now: NOW_S, newJti: () => `jti-${String(++n).padStart(4, '0')}` }
}
const clientOf = (config: Readonly<Config>, id: string): Client => config.clients.get(id) as Client
const visit = (o: Record<string, unknown> = {}): VisitRequest => VisitRequestSchema.parse(visitBody(o))
const tokenReq = (o: Record<string, unknown>): TokenRequest => TokenRequestSchema.parse(o)

async function claimsOf (token: string): Promise<JitsiClaims> {
  const { payload } = await jwtVerify(token, KEY, { algorithms: ['HS256'], currentDate: new Date((NOW_S + 3000) * 1000) })
  return payload as unknown as JitsiClaims
}

async function apiError (p: Promise<unknown>): Promise<{ code: string, detail?: string } | 'resolved'> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    return { code: err.code, detail: err.detail }
  }
}

const config = testConfig()
const main = clientOf(config, 'openemr-main')
const ROOM_A = roomName(ROOM_SECRET, '', 'clinic-a', 'pc_eid-12345')

t.test('issueVisit: the exact response body and issued summary', async (t) => {
  const issued = await issueVisit(visit(), main, context(config))
  const url = `https://meet.example.org/clinic-a/${ROOM_A}`
  const [p0, p1] = issued.body.participants
  t.strictSame(issued.body, {
    room: ROOM_A,
    tenant: 'clinic-a',
    roomUrl: url,
    start: '2026-11-21T16:00:00Z',
    end: '2026-11-21T16:30:00Z',
    participants: [
      { role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith', moderator: true, lobbyBypass: true, notBefore: '2026-11-21T15:44:30Z', expiresAt: '2026-11-21T17:00:00Z', token: p0?.token, joinUrl: `${url}?jwt=${p0?.token}` },
      { role: 'patient', id: 'pid-42', displayName: 'José Núñez', moderator: false, lobbyBypass: false, notBefore: '2026-11-21T15:49:30Z', expiresAt: '2026-11-21T17:00:00Z', token: p1?.token, joinUrl: `${url}?jwt=${p1?.token}` }
    ]
  })
  t.equal(issued.room, ROOM_A)
  t.equal(issued.tenant, 'clinic-a')
  t.strictSame(issued.tokens, [
    { role: 'provider', participantId: 'user-7', jti: 'jti-0001', nbf: NOW_S + 2670, exp: NOW_S + 7200, mixedScriptName: false },
    { role: 'patient', participantId: 'pid-42', jti: 'jti-0002', nbf: NOW_S + 2970, exp: NOW_S + 7200, mixedScriptName: false }
  ])
  t.not(p0?.token, p1?.token)
})

t.test('issueVisit: the tokens carry the exact claims', async (t) => {
  const issued = await issueVisit(visit(), main, context(config))
  const [provider, patient] = await Promise.all(issued.body.participants.map((p) => claimsOf(p.token)))
  t.strictSame(provider, {
    iss: 'openemr_telehealth',
    aud: 'jitsi',
    sub: 'clinic-a',
    room: ROOM_A,
    iat: NOW_S,
    nbf: NOW_S + 2670,
    exp: NOW_S + 7200,
    jti: 'jti-0001',
    moderator: true,
    context: {
      user: { id: 'user-7', name: 'Dr. Ada Smith', moderator: true, affiliation: 'owner', lobby_bypass: true },
      features: { 'screen-sharing': 'true', 'send-groupchat': 'true', recording: 'false', transcription: 'false', livestreaming: 'false', 'outbound-call': 'false', 'sip-outbound-call': 'false', 'inbound-call': 'false', 'sip-inbound-call': 'false', 'create-polls': 'true', 'file-upload': 'false', lobby: 'true', moderation: 'true', 'list-visitors': 'false' }
    }
  })
  t.strictSame(patient, {
    iss: 'openemr_telehealth',
    aud: 'jitsi',
    sub: 'clinic-a',
    room: ROOM_A,
    iat: NOW_S,
    nbf: NOW_S + 2970,
    exp: NOW_S + 7200,
    jti: 'jti-0002',
    moderator: false,
    context: {
      user: { id: 'pid-42', name: 'José Núñez', moderator: false, affiliation: 'member', lobby_bypass: false },
      features: { 'screen-sharing': 'true', 'send-groupchat': 'true', recording: 'false', transcription: 'false', livestreaming: 'false', 'outbound-call': 'false', 'sip-outbound-call': 'false', 'inbound-call': 'false', 'sip-inbound-call': 'false', 'create-polls': 'false', 'file-upload': 'false', lobby: 'false', moderation: 'false', 'list-visitors': 'false' }
    }
  }, 'the patient email is not in the token by default')
})

t.test('issueVisit: participants come back in request order, jtis drawn in that order', async (t) => {
  const roles = ['observer', 'patient', 'provider', 'interpreter', 'caregiver', 'patient', 'observer', 'provider']
  const participants = roles.map((role, i) => ({ role, id: `p-${i}`, displayName: `Person ${i}` }))
  const issued = await issueVisit(visit({ participants }), main, context(config))
  t.strictSame(issued.body.participants.map((p) => [p.role, p.id]), roles.map((r, i) => [r, `p-${i}`]))
  t.strictSame(issued.tokens.map((x) => x.jti), roles.map((_, i) => `jti-${String(i + 1).padStart(4, '0')}`))
  const claims = await Promise.all(issued.body.participants.map((p) => claimsOf(p.token)))
  t.strictSame(claims.map((c) => c.context.user.id), roles.map((_, i) => `p-${i}`), 'each token belongs to its own participant')
})

t.test('issueVisit: the same (tenant, appointmentId) gives the same room; tokens are fresh', async (t) => {
  const a = await issueVisit(visit(), main, context(config))
  const b = await issueVisit(visit({ start: iso(NOW_S + 7200), durationMinutes: 45 }), main, context(config))
  t.equal(a.room, b.room, 'the schedule does not move the room')
  const other = await issueVisit(visit({ tenant: 'clinic-b' }), main, context(config))
  t.not(other.room, a.room, 'different tenant, different room')
  t.equal(other.body.roomUrl, `https://meet.example.org/clinic-b/${other.room}`)
  t.equal(other.room, roomName(ROOM_SECRET, '', 'clinic-b', 'pc_eid-12345'))
  const appt = await issueVisit(visit({ appointmentId: 'pc_eid-12346' }), main, context(config))
  t.not(appt.room, a.room, 'different appointment, different room')
})

t.test('issueVisit: ROOM_NAME_PREFIX is applied to generated rooms', async (t) => {
  const cfg = testConfig({ ROOM_NAME_PREFIX: 'tele-' })
  const issued = await issueVisit(visit(), clientOf(cfg, 'openemr-main'), context(cfg))
  t.equal(issued.room, `tele-${ROOM_A}`)
  t.equal((await claimsOf(issued.body.participants[0]?.token as string)).room, `tele-${ROOM_A}`)
})

t.test('issueVisit: recording consent enables recording/transcription for providers only', async (t) => {
  const participants = [
    { role: 'provider', id: 'u1', displayName: 'Dr A' },
    { role: 'patient', id: 'u2', displayName: 'Pat' },
    { role: 'interpreter', id: 'u3', displayName: 'Int' }
  ]
  const issued = await issueVisit(visit({ participants, consent: { recording: 'consent-form-991' } }), main, context(config))
  const claims = await Promise.all(issued.body.participants.map((p) => claimsOf(p.token)))
  t.strictSame(claims.map((c) => [c.context.features.recording, c.context.features.transcription]), [['true', 'true'], ['false', 'false'], ['false', 'false']])
  const noConsent = await issueVisit(visit({ participants, consent: {} }), main, context(config))
  const c0 = await claimsOf(noConsent.body.participants[0]?.token as string)
  t.equal(c0.context.features.recording, 'false', 'an empty consent object is no consent')
})

t.test('issueVisit: email only with JWT_INCLUDE_EMAIL=true; fragment mode links', async (t) => {
  const cfg = testConfig({ JWT_INCLUDE_EMAIL: 'true', TOKEN_IN_URL: 'fragment' })
  const issued = await issueVisit(visit(), clientOf(cfg, 'openemr-main'), context(cfg))
  const [provider, patient] = await Promise.all(issued.body.participants.map((p) => claimsOf(p.token)))
  t.notOk('email' in (provider as JitsiClaims).context.user, 'no email given, none sent')
  t.equal(patient?.context.user.email, 'jn@example.org')
  for (const p of issued.body.participants) t.equal(p.joinUrl, `${issued.body.roomUrl}#jwt=%22${p.token}%22`)
})

t.test('issueVisit: 403 for a tenant, a role or a tenant-less visit the client may not use', async (t) => {
  t.strictSame(await apiError(issueVisit(visit({ tenant: 'clinic-z' }), main, context(config))), { code: 'forbidden', detail: 'tenant not allowed for this client' })
  t.strictSame(await apiError(issueVisit(visit({ tenant: undefined }), main, context(config))), { code: 'forbidden', detail: 'tenant not allowed for this client' }, 'client with a tenant list needs a tenant')
  const portal = clientOf(config, 'patient-portal')
  t.strictSame(await apiError(issueVisit(visit(), portal, context(config))), { code: 'forbidden', detail: 'role not allowed for this client' }, 'provider is not in the portal roles')
  t.strictSame(await apiError(issueVisit(visit({ tenant: 'clinic-b', participants: [{ role: 'patient', id: 'p', displayName: 'P' }] }), portal, context(config))), { code: 'forbidden', detail: 'tenant not allowed for this client' })
  t.equal(await apiError(issueVisit(visit({ participants: [{ role: 'caregiver', id: 'c', displayName: 'C' }] }), portal, context(config))), 'resolved')
})

t.test('issueVisit: authorisation is decided before the time checks (403 over visit_ended)', async (t) => {
  const ended = visit({ tenant: 'clinic-z', start: iso(NOW_S - 7200), durationMinutes: 30 })
  t.strictSame(await apiError(issueVisit(ended, main, context(config))), { code: 'forbidden', detail: 'tenant not allowed for this client' })
  t.match(await apiError(issueVisit(visit({ start: iso(NOW_S - 7200), durationMinutes: 30 }), main, context(config))), { code: 'visit_ended' })
})

t.test('issueVisit: "*" clients take any tenant; tenant-less visits use JWT_SUBJECT and no tenant path', async (t) => {
  const any = clientOf(config, 'ehr-rsa')
  const withTenant = await issueVisit(visit({ tenant: 'clinic-q' }), any, context(config))
  t.equal((await claimsOf(withTenant.body.participants[0]?.token as string)).sub, 'clinic-q')
  const noTenant = await issueVisit(visit({ tenant: undefined }), clientOf(config, 'ehr-ed'), context(config))
  const room = roomName(ROOM_SECRET, '', '', 'pc_eid-12345')
  t.equal(noTenant.room, room)
  t.equal(noTenant.tenant, undefined)
  t.equal(noTenant.body.roomUrl, `https://meet.example.org/${room}`)
  t.equal(noTenant.body.tenant, undefined)
  t.equal((await claimsOf(noTenant.body.participants[0]?.token as string)).sub, 'meet.jitsi')
  const sub = testConfig({ JWT_SUBJECT: 'meet.example.org' })
  const custom = await issueVisit(visit({ tenant: undefined }), clientOf(sub, 'ehr-ed'), context(sub))
  t.equal((await claimsOf(custom.body.participants[0]?.token as string)).sub, 'meet.example.org')
})

t.test('issueVisit: never partial — one failed signature rejects the whole call', async (t) => {
  const real = createSigner(config.jwt)
  let calls = 0
  const flaky: Signer = {
    alg: real.alg,
    async sign (claims) {
      if (++calls === 2) throw new Error('HSM unavailable')
      return await real.sign(claims)
    }
  }
  const participants = [1, 2, 3].map((i) => ({ role: 'patient', id: `p${i}`, displayName: `P${i}` }))
  await t.rejects(issueVisit(visit({ participants }), main, context(config, flaky)), { message: 'HSM unavailable' })
  t.equal(calls, 3, 'every participant was attempted, and the one failure rejected the whole call')
})

t.test('issueVisit: time-window 400s pass through', async (t) => {
  t.match(await apiError(issueVisit(visit({ durationMinutes: 721 }), main, context(config))), { code: 'invalid_request' })
  t.match(await apiError(issueVisit(visit({ start: iso(NOW_S + 91 * 86400) }), main, context(config))), { code: 'invalid_request' })
})

t.test('issueToken: ad-hoc window without start, no late grace', async (t) => {
  const issued = await issueToken(tokenReq({ appointmentId: 'pc_eid-12345', tenant: 'clinic-a', participant: { role: 'patient', id: 'pid-42', displayName: 'José Núñez' } }), main, context(config))
  const url = `https://meet.example.org/clinic-a/${ROOM_A}`
  t.strictSame(issued.body, {
    role: 'patient',
    id: 'pid-42',
    displayName: 'José Núñez',
    moderator: false,
    lobbyBypass: false,
    notBefore: '2026-11-21T14:59:30Z',
    expiresAt: '2026-11-21T16:00:00Z',
    token: issued.body.token,
    joinUrl: `${url}?jwt=${issued.body.token}`,
    room: ROOM_A,
    tenant: 'clinic-a',
    roomUrl: url
  })
  const c = await claimsOf(issued.body.token)
  t.strictSame([c.iat, c.nbf, c.exp, c.jti], [NOW_S, NOW_S - 30, NOW_S + 3600, 'jti-0001'])
  t.strictSame(issued.tokens, [{ role: 'patient', participantId: 'pid-42', jti: 'jti-0001', nbf: NOW_S - 30, exp: NOW_S + 3600, mixedScriptName: false }])
})

t.test('issueToken: with start, the visit window of the role', async (t) => {
  const issued = await issueToken(tokenReq({ appointmentId: 'pc_eid-12345', tenant: 'clinic-a', participant: { role: 'interpreter', id: 'i-1', displayName: 'محمد' }, start: iso(NOW_S + 3600), durationMinutes: 30 }), main, context(config))
  const c = await claimsOf(issued.body.token)
  t.strictSame([c.nbf, c.exp, c.room, c.context.user.lobby_bypass], [NOW_S + 3600 - 900 - 30, NOW_S + 5400 + 1800, ROOM_A, true])
  t.equal(issued.room, ROOM_A, 'same room as the visit route')
  t.match(await apiError(issueToken(tokenReq({ appointmentId: 'x', tenant: 'clinic-a', participant: { role: 'patient', id: 'p', displayName: 'P' }, start: iso(NOW_S - 7200), end: iso(NOW_S - 3600) }), main, context(config))), { code: 'visit_ended' })
})

t.test('issueToken: custom rooms only for clients with allowCustomRooms, used as given', async (t) => {
  const req = tokenReq({ room: 'my-custom-room', tenant: 'clinic-a', participant: { role: 'patient', id: 'p', displayName: 'P' } })
  t.strictSame(await apiError(issueToken(req, main, context(config))), { code: 'forbidden', detail: 'custom rooms not allowed for this client' })
  const cfg = testConfig({ ROOM_NAME_PREFIX: 'tele-' })
  const issued = await issueToken(req, clientOf(cfg, 'ehr-rsa'), context(cfg))
  t.equal(issued.room, 'my-custom-room', 'no ROOM_NAME_PREFIX on a custom room')
  t.equal(issued.body.roomUrl, 'https://meet.example.org/clinic-a/my-custom-room')
  t.equal((await claimsOf(issued.body.token)).room, 'my-custom-room')
})

t.test('issueToken: 403 for tenant and role', async (t) => {
  const portal = clientOf(config, 'patient-portal')
  t.strictSame(await apiError(issueToken(tokenReq({ appointmentId: 'a', tenant: 'clinic-a', participant: { role: 'provider', id: 'p', displayName: 'P' } }), portal, context(config))), { code: 'forbidden', detail: 'role not allowed for this client' })
  t.strictSame(await apiError(issueToken(tokenReq({ appointmentId: 'a', tenant: 'clinic-b', participant: { role: 'patient', id: 'p', displayName: 'P' } }), portal, context(config))), { code: 'forbidden', detail: 'tenant not allowed for this client' })
})

t.test('issueToken: consent passes through', async (t) => {
  const issued = await issueToken(tokenReq({ appointmentId: 'a', tenant: 'clinic-a', participant: { role: 'provider', id: 'p', displayName: 'P' }, consent: { recording: 'c-1' } }), main, context(config))
  t.equal((await claimsOf(issued.body.token)).context.features.recording, 'true')
  t.strictSame(decodeProtectedHeader(issued.body.token), { alg: 'HS256', typ: 'JWT' })
})

/** 'signed', or why not: a schema/config refusal is fine, an ApiError is a clean 4xx, anything else is a 500. */
async function outcome (p: Promise<unknown>): Promise<string> {
  return await p.then(() => 'signed', (err: unknown) => err instanceof ApiError ? `api ${err.code}` : `500 (${(err as Error).constructor.name})`)
}

t.test('issueVisit: a "*" client may also issue tenant-less visits', async (t) => {
  const issued = await issueVisit(visit({ tenant: undefined }), clientOf(config, 'ehr-rsa'), context(config))
  t.equal(issued.room, roomName(ROOM_SECRET, '', '', 'pc_eid-12345'))
})

t.test('every tenant the request schema accepts can be signed (never a 500)', async (t) => {
  for (const tenant of ['-', '-clinic', '--', '0', 'clinic-']) {
    const parsed = VisitRequestSchema.safeParse(visitBody({ tenant }))
    if (!parsed.success) {
      t.pass(`${tenant}: refused by the schema (400)`)
      continue
    }
    t.equal(await outcome(issueVisit(parsed.data, clientOf(config, 'ehr-rsa'), context(config))), 'signed', `tenant ${JSON.stringify(tenant)}`)
  }
})

t.test('every ROOM_NAME_PREFIX and JWT_SUBJECT the config accepts yields signable tokens (never a 500)', async (t) => {
  const cases: Array<[Record<string, string>, string | undefined]> = [
    [{ ROOM_NAME_PREFIX: '-' }, 'clinic-a'],
    [{ ROOM_NAME_PREFIX: '-tele' }, 'clinic-a'],
    [{ JWT_SUBJECT: '.jitsi' }, undefined],
    [{ JWT_SUBJECT: '-meet.jitsi' }, undefined]
  ]
  for (const [env, tenant] of cases) {
    let cfg: Readonly<Config>
    try {
      cfg = testConfig(env)
    } catch {
      t.pass(`${JSON.stringify(env)}: refused at startup`)
      continue
    }
    const client = clientOf(cfg, tenant === undefined ? 'ehr-ed' : 'openemr-main')
    t.equal(await outcome(issueVisit(visit({ tenant }), client, context(cfg))), 'signed', JSON.stringify(env))
  }
})
