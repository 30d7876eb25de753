// The token doctor: a token and a Jitsi .env that pass every check, then tokens and settings
// that each break exactly one rule (and nothing else) of jitsi-token-rules.md.
import { generateKeyPairSync } from 'node:crypto'
import { SignJWT } from 'jose'
import t from 'tap'
import { FEATURE_KEYS } from '../../src/config/policy.js'
import { backendSafeRoomName, formatReport, inspectToken, type DoctorInput } from '../../src/services/doctor.js'
import { parseEnvFile, resolveJitsiSettings, toBool } from '../../src/services/jitsi-env.js'

const NOW = 1_795_273_200
const SECRET = 'doctor-test-secret-0123456789-abcdefghij'
const ROOM = 'vqk3x7ab2cd4ef5gh6ij7kl2mn'
const BASE = `https://meet.example.org/clinic-a/${ROOM}`

const ENV: Record<string, string> = {
  ENABLE_AUTH: '1',
  AUTH_TYPE: 'jwt',
  JWT_APP_ID: 'openemr_telehealth',
  JWT_APP_SECRET: SECRET,
  JWT_ACCEPTED_ISSUERS: 'openemr_telehealth',
  JWT_ACCEPTED_AUDIENCES: 'jitsi',
  JWT_ENABLE_DOMAIN_VERIFICATION: 'true',
  XMPP_MUC_MODULES: 'token_affiliation,token_lobby_bypass',
  JICOFO_ENABLE_AUTH: '0',
  ENABLE_AUTO_OWNER: '0'
}

type Claims = Record<string, unknown>
const features = (over: Record<string, unknown> = {}) => ({ ...Object.fromEntries(FEATURE_KEYS.map((k) => [k, 'false'])), 'send-groupchat': 'true', ...over })
const user = (over: Record<string, unknown> = {}) => ({ id: 'pc_aid-7', name: 'Dr. Ada', moderator: true, affiliation: 'owner', lobby_bypass: true, ...over })
const claims = (over: Claims = {}, userOver: Record<string, unknown> = {}, featureOver: Record<string, unknown> = {}): Claims => ({
  iss: 'openemr_telehealth', aud: 'jitsi', sub: 'clinic-a', room: ROOM, iat: NOW - 30, nbf: NOW - 30, exp: NOW + 3600, jti: 'j1', moderator: true,
  context: { user: user(userOver), features: features(featureOver) },
  ...over
})
const patientUser = { id: 'pc_pid-42', moderator: false, affiliation: 'member', lobby_bypass: false }

async function sign (c: Claims, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, key: Parameters<SignJWT['sign']>[0] = new TextEncoder().encode(SECRET)) {
  const clean = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))
  return await new SignJWT(clean).setProtectedHeader(header as { alg: string }).sign(key)
}

interface Case { token?: string, url?: (token: string) => string, env?: Record<string, string | undefined>, at?: number, input?: Partial<DoctorInput> }
async function run (c: Case = {}) {
  const token = c.token ?? await sign(claims())
  const env = Object.fromEntries(Object.entries({ ...ENV, ...c.env }).filter(([, v]) => v !== undefined)) as Record<string, string>
  return await inspectToken({ joinUrl: (c.url ?? ((tk) => `${BASE}#jwt=%22${tk}%22`))(token), jitsiEnv: env, nowS: NOW, atS: c.at, ...c.input })
}
const notPassing = (r: Awaited<ReturnType<typeof run>>) => r.checks.filter((c) => c.verdict !== 'pass').map((c) => `${c.verdict} ${c.id}`)

t.test('the baseline passes every line', async (t) => {
  const r = await run()
  t.strictSame(notPassing(r), [])
  t.equal(r.ok, true)
  t.equal(r.room, ROOM)
  t.equal(r.tenant, 'clinic-a')
  t.ok(r.checks.length >= 20)
  t.strictSame(notPassing(await run({ token: await sign(claims({ moderator: false }, patientUser, { 'screen-sharing': 'true' })) })), [], 'a patient too')
})

const key2 = new TextEncoder().encode('another-secret-0123456789-abcdefghijkl')
const breaks: Array<[string, string, () => Promise<Case>]> = [
  ['fail header.typ', 'typ missing', async () => ({ token: await sign(claims(), { alg: 'HS256' }) })],
  ['fail header.alg', 'alg HS512 where JWT_SIGN_TYPE is HS256', async () => ({ token: await sign(claims(), { alg: 'HS512', typ: 'JWT' }) })],
  ['fail header.alg', 'JWT_SIGN_TYPE=RS256 in Jitsi', async () => ({ env: { JWT_SIGN_TYPE: 'RS256' } })],
  ['fail signature', 'signed with another secret', async () => ({ token: await sign(claims(), undefined, key2) })],
  ['fail signature', 'JWT_APP_SECRET=false is never written', async () => ({ env: { JWT_APP_SECRET: 'false' } })],
  ['fail claims.iss', 'iss not in JWT_ACCEPTED_ISSUERS', async () => ({ token: await sign(claims({ iss: 'openemr' })) })],
  ['fail claims.iss', 'seed 003: iss openemr but no accepted list, so only JWT_APP_ID', async () => ({ token: await sign(claims({ iss: 'openemr' })), env: { JWT_ACCEPTED_ISSUERS: undefined } })],
  ['fail claims.aud', 'aud as an array', async () => ({ token: await sign(claims({ aud: ['jitsi'] })) })],
  ['fail claims.aud', 'aud missing', async () => ({ token: await sign(claims({ aud: undefined })) })],
  ['fail claims.aud', 'aud not accepted', async () => ({ token: await sign(claims({ aud: 'openemr_telehealth' })) })],
  ['fail claims.sub', 'sub is the XMPP domain in a tenant URL', async () => ({ token: await sign(claims({ sub: 'meet.jitsi' })) })],
  ['fail claims.sub', 'sub missing', async () => ({ token: await sign(claims({ sub: undefined })) })],
  ['warn claims.sub', 'sub "*"', async () => ({ token: await sign(claims({ sub: '*' })) })],
  ['fail claims.room', 'room with a space', async () => ({ token: await sign(claims({ room: 'Visit 42' })) })],
  ['fail claims.room', 'room with non-ASCII', async () => ({ token: await sign(claims({ room: 'café' })) })],
  ['fail claims.room', 'room of another visit', async () => ({ token: await sign(claims({ room: 'otherroom' })) })],
  ['fail claims.room', 'room missing', async () => ({ token: await sign(claims({ room: undefined })) })],
  ['warn claims.room', 'room "*"', async () => ({ token: await sign(claims({ room: '*' })), url: (tk) => `https://meet.example.org/clinic-a/any#jwt=%22${tk}%22` })],
  ['fail claims.nbf', 'nbf as a string', async () => ({ token: await sign(claims({ nbf: String(NOW - 30) })) })],
  ['fail claims.exp', 'exp in milliseconds', async () => ({ token: await sign(claims({ exp: (NOW + 3600) * 1000 })) })],
  ['warn claims.exp', 'exp missing', async () => ({ token: await sign(claims({ exp: undefined })) })],
  ['fail time.now', 'expired', async () => ({ token: await sign(claims({ exp: NOW })) })],
  ['fail time.now', 'not valid yet, no appointment time given', async () => ({ token: await sign(claims({ nbf: NOW + 60 })) })],
  ['warn time.now', 'not valid yet, valid at the appointment', async () => ({ token: await sign(claims({ nbf: NOW + 60 })), at: NOW + 120 })],
  ['fail time.at', 'expires before the appointment', async () => ({ at: NOW + 7200 })],
  ['fail user.moderator', 'moderator as the string "true"', async () => ({ token: await sign(claims({}, { moderator: 'true' })) })],
  ['fail user.moderator', 'affiliation owner with moderator false', async () => ({ token: await sign(claims({ moderator: false }, { moderator: false, lobby_bypass: false })) })],
  ['warn user.moderator', 'top-level moderator differs from context.user', async () => ({ token: await sign(claims({ moderator: false })) })],
  ['warn jitsi.token_affiliation', 'token_affiliation not loaded', async () => ({ env: { XMPP_MUC_MODULES: 'token_lobby_bypass' } })],
  ['warn jitsi.everyone-moderator', 'patient with JICOFO_ENABLE_AUTH defaulting to ENABLE_AUTH', async () => ({ token: await sign(claims({ moderator: false }, patientUser)), env: { JICOFO_ENABLE_AUTH: undefined } })],
  ['warn jitsi.everyone-moderator', 'patient with auto-owner on', async () => ({ token: await sign(claims({ moderator: false }, patientUser)), env: { ENABLE_AUTO_OWNER: undefined } })],
  ['fail user.lobby_bypass', 'lobby_bypass as the string "true"', async () => ({ token: await sign(claims({}, { lobby_bypass: 'true' })) })],
  ['warn user.lobby_bypass', 'a moderator without lobby_bypass', async () => ({ token: await sign(claims({}, { lobby_bypass: undefined })) })],
  ['warn jitsi.token_lobby_bypass', 'lobby_bypass without the module', async () => ({ env: { XMPP_MUC_MODULES: 'token_affiliation' } })],
  ['fail context.features', 'send-groupchat missing', async () => ({ token: await sign(claims({}, {}, { 'send-groupchat': undefined })) })],
  ['fail context.features', 'a value that is not "true"/"false"', async () => ({ token: await sign(claims({}, {}, { recording: 'yes' })) })],
  ['warn context.features', 'booleans instead of strings', async () => ({ token: await sign(claims({}, {}, { recording: false })) })],
  ['warn context.features', 'features absent', async () => ({ token: await sign(claims({ context: { user: user() } })) })],
  ['fail url.token', 'bare #jwt= is ignored by the web client', async () => ({ url: (tk) => `${BASE}#jwt=${tk}` })],
  ['warn url.room', 'a path deeper than /tenant/room', async () => ({ url: (tk) => `https://meet.example.org/x/clinic-a/${ROOM}?jwt=${tk}` })],
  ['fail jitsi.auth', 'ENABLE_AUTH off', async () => ({ env: { ENABLE_AUTH: '0' } })],
  ['fail jitsi.auth', 'JWT_APP_ID empty', async () => ({ env: { JWT_APP_ID: '' } })],
  ['warn jitsi.anonymous', 'guests allowed', async () => ({ env: { ENABLE_GUESTS: '1' } })]
]

for (const [expected, what, make] of breaks) {
  t.test(`${what} → ${expected} alone`, async (t) => {
    const r = await run(await make())
    t.strictSame(notPassing(r), [expected], JSON.stringify(r.checks.filter((c) => c.verdict !== 'pass')))
    t.equal(r.ok, !expected.startsWith('fail'))
  })
}

t.test('harmless differences still pass', async (t) => {
  t.strictSame(notPassing(await run({ token: await sign(claims({ room: ROOM.toUpperCase() })) })), [], 'upper-case room claim')
  t.strictSame(notPassing(await run({ url: (tk) => `https://meet.example.org/clinic-a/${ROOM.toUpperCase()}?jwt=${tk}` })), [], 'upper-case URL room, query form')
  t.strictSame(notPassing(await run({ token: await sign(claims({ sub: 'other' })), env: { JWT_ENABLE_DOMAIN_VERIFICATION: 'false' } })), [], 'sub unchecked without domain verification')
  t.strictSame(notPassing(await run({ token: await sign(claims({ sub: 'meet.jitsi' })), url: (tk) => `https://meet.example.org/${ROOM}?jwt=${tk}` })), [], 'no tenant: sub is the XMPP domain')
  const percent = await sign(claims({ room: 'visit%2042' }))
  t.strictSame(notPassing(await run({ token: percent, url: (tk) => `https://meet.example.org/clinic-a/Visit%2042?jwt=${tk}` })), [], 'percent-encoded claim for a room with a space')
})

t.test('without a join URL the tenant cannot be checked', async (t) => {
  const token = await sign(claims())
  const r = await inspectToken({ token, jitsiEnv: ENV, nowS: NOW })
  t.strictSame(notPassing(r), ['warn claims.sub'])
  const noTenant = await inspectToken({ token: await sign(claims({ sub: 'meet.jitsi' })), jitsiEnv: ENV, nowS: NOW })
  t.strictSame(notPassing(noTenant), [])
})

t.test('key server mode: RS256 with kid, verified with the public key', async (t) => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const env = { JWT_APP_SECRET: undefined, JWT_ASAP_KEYSERVER: 'https://keys.example.org/asap' }
  const good = await sign(claims(), { alg: 'RS256', typ: 'JWT', kid: 'jitsi/k1' }, pair.privateKey)
  t.strictSame(notPassing(await run({ token: good, env, input: { key: { publicKey: pair.publicKey } } })), [])
  t.strictSame(notPassing(await run({ token: good, env })), ['warn signature'], 'no key given: the key server has it')
  const noKid = await sign(claims(), { alg: 'RS256', typ: 'JWT' }, pair.privateKey)
  t.strictSame(notPassing(await run({ token: noKid, env, input: { key: { publicKey: pair.publicKey } } })), ['fail header.kid'])
})

t.test('no Jitsi environment: docker defaults with JWT on, and the gaps are warnings', async (t) => {
  const r = await inspectToken({ token: await sign(claims()), nowS: NOW })
  t.strictSame(notPassing(r), ['warn jitsi.config', 'warn signature', 'warn claims.iss', 'warn jitsi.token_affiliation', 'warn jitsi.token_lobby_bypass'])
  t.equal(r.ok, true)
  const withKey = await inspectToken({ token: await sign(claims()), nowS: NOW, key: { secret: SECRET } })
  t.match(withKey.checks.find((c) => c.id === 'signature'), { verdict: 'pass', message: /the given secret/u })
})

t.test('unusable input', async (t) => {
  t.match(await inspectToken({ token: 'not.a-jwt', nowS: NOW }), { ok: false, checks: [{ id: 'token.format', verdict: 'fail' }] })
  t.match(await inspectToken({ joinUrl: 'not a url', nowS: NOW }), { ok: false, checks: [{ id: 'url.token', verdict: 'fail' }] })
  t.match(await inspectToken({ joinUrl: `${BASE}`, nowS: NOW }), { ok: false, checks: [{ id: 'url.token', verdict: 'fail', message: /no jwt/u }] })
  t.match(await inspectToken({ joinUrl: 'https://meet.example.org/?jwt=a.b.c', nowS: NOW }), { ok: false, checks: [{ id: 'url.room', verdict: 'fail' }] })
})

t.test('the report never contains the token; the text form has one line per check', async (t) => {
  const token = await sign(claims())
  const r = await run({ token })
  const text = formatReport(r)
  t.notOk(JSON.stringify(r).includes(token.split('.')[2] as string))
  t.notOk(text.includes(token.split('.')[1] as string))
  t.equal(text.split('\n').filter((l) => /^(PASS|WARN|FAIL) /u.test(l)).length, r.checks.length)
  t.match(text, /OK: 0 fail, 0 warn, \d+ pass$/u)
})

t.test('room names as Prosody sees them (getBackendSafeRoomName)', async (t) => {
  t.equal(backendSafeRoomName('Visit%2042'), 'visit%2042')
  t.equal(backendSafeRoomName('Café'), 'caf%c3%a9')
  t.equal(backendSafeRoomName('a:b@c'), 'abc')
  t.equal(backendSafeRoomName('%E0%A4%A'), '%25e0%25a4%25a', 'undecodable input is kept and encoded')
})

t.test('docker .env parsing and toBool', async (t) => {
  const env = parseEnvFile('# comment\n\nexport ENABLE_AUTH=1\nAUTH_TYPE = jwt # inline\nJWT_APP_SECRET="a#b \\"q\\""\nXMPP_DOMAIN=\'Meet.Example\'\nnot a line\n')
  t.strictSame(env, { ENABLE_AUTH: '1', AUTH_TYPE: 'jwt', JWT_APP_SECRET: 'a#b "q"', XMPP_DOMAIN: 'Meet.Example' })
  t.equal(resolveJitsiSettings(env).xmppDomain, 'meet.example')
  t.strictSame(['1', 'true', 'T', 'yes', '0', 'False', '', undefined].map((v) => toBool(v)), [true, true, true, true, false, false, false, false])
  t.equal(toBool(undefined, true), true)
  t.equal(resolveJitsiSettings({ JWT_ASAP_KEYSERVER: 'https://k' }).signType, 'RS256')
})
