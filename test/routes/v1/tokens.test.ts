// POST /v1/tokens: one participant, appointment-bound or ad hoc, custom rooms for allowed clients.
import { jwtVerify } from 'jose'
import t from 'tap'
import { JITSI_SECRET, NOW_S, build, ec, iso, signedPost } from '../../helper.js'

const jitsiKey = new TextEncoder().encode(JITSI_SECRET)
const participant = { role: 'patient', id: 'pid-42', displayName: 'José Núñez' }
const rsaClient = { iss: 'ehr-rsa', key: ec.privateKey, alg: 'ES256', header: { kid: 'e1' } }

t.test('appointment-bound token: same room as /v1/visits, visit window', async (t) => {
  const { app } = await build(t)
  const visit = (await signedPost(app, '/v1/visits', { appointmentId: 'pc_eid-1', tenant: 'clinic-a', start: iso(NOW_S + 600), durationMinutes: 30, participants: [participant] })).json()
  const res = await signedPost(app, '/v1/tokens', { appointmentId: 'pc_eid-1', tenant: 'clinic-a', participant, start: iso(NOW_S + 600), durationMinutes: 30 })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json()
  t.same(body, {
    role: 'patient', id: 'pid-42', displayName: 'José Núñez', moderator: false, lobbyBypass: false,
    notBefore: iso(NOW_S - 30), expiresAt: iso(NOW_S + 600 + 1800 + 1800),
    token: body.token, joinUrl: `${visit.roomUrl as string}?jwt=${body.token as string}`,
    room: visit.room, tenant: 'clinic-a', roomUrl: visit.roomUrl
  })
  const { payload } = await jwtVerify(body.token, jitsiKey, { currentDate: new Date(NOW_S * 1000) })
  t.match(payload, { room: visit.room, sub: 'clinic-a', nbf: NOW_S - 30, exp: NOW_S + 4200, iat: NOW_S })
})

t.test('ad-hoc token (no start): now − skew → now + DEFAULT_TOKEN_TTL_SECONDS', async (t) => {
  const { app } = await build(t, { env: { DEFAULT_TOKEN_TTL_SECONDS: '900' } })
  const res = await signedPost(app, '/v1/tokens', { appointmentId: 'pc_eid-2', tenant: 'clinic-b', participant: { ...participant, role: 'provider' } })
  t.equal(res.statusCode, 200)
  const { payload } = await jwtVerify(res.json().token, jitsiKey, { currentDate: new Date(NOW_S * 1000) })
  t.match(payload, { nbf: NOW_S - 30, exp: NOW_S + 900, moderator: true, context: { user: { moderator: true, affiliation: 'owner', lobby_bypass: true } } })
})

t.test('custom rooms only for clients with allowCustomRooms, used as given', async (t) => {
  const { app } = await build(t, { env: { ROOM_NAME_PREFIX: 'tele-' } })
  const denied = await signedPost(app, '/v1/tokens', { room: 'weekly-group-1', tenant: 'clinic-a', participant })
  t.equal(denied.statusCode, 403)
  const ok = await signedPost(app, '/v1/tokens', { room: 'weekly-group-1', tenant: 'clinic-a', participant }, rsaClient)
  t.equal(ok.statusCode, 200, ok.body)
  t.equal(ok.json().room, 'weekly-group-1', 'no prefix on custom rooms')
  const generated = await signedPost(app, '/v1/tokens', { appointmentId: 'x1', tenant: 'clinic-a', participant }, rsaClient)
  t.match(generated.json().room, /^tele-[a-z2-7]{26}$/)
})

t.test('400: exactly one of appointmentId/room; end only with start', async (t) => {
  const { app } = await build(t)
  const neither = await signedPost(app, '/v1/tokens', { tenant: 'clinic-a', participant })
  t.same(neither.json().errors, [{ path: '', rule: 'appointment_xor_room' }])
  const endWithoutStart = await signedPost(app, '/v1/tokens', { appointmentId: 'a', tenant: 'clinic-a', participant, end: iso(NOW_S + 60) })
  t.same(endWithoutStart.json().errors, [{ path: '', rule: 'schedule' }])
  const badRoom = await signedPost(app, '/v1/tokens', { room: 'Room With Spaces', tenant: 'clinic-a', participant }, rsaClient)
  t.same(badRoom.json().errors, [{ path: '/room', rule: 'invalid_format' }])
  const star = await signedPost(app, '/v1/tokens', { room: '*', tenant: 'clinic-a', participant }, rsaClient)
  t.equal(star.statusCode, 400, 'room "*" never reaches the signer')
})

t.test('an assertion for /v1/visits is refused on /v1/tokens', async (t) => {
  const { app } = await build(t)
  const res = await signedPost(app, '/v1/tokens', { appointmentId: 'a', tenant: 'clinic-a', participant }, { path: '/v1/visits' })
  t.equal(res.statusCode, 401)
})
