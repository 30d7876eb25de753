// Attack catalogue section G — field content (rows 71–84): display names, emails, avatar, tenant,
// appointment ids, generated room names, join URLs, and the signer's last line of defence.
import fc from 'fast-check'
import { decodeJwt } from 'jose'
import t from 'tap'
import { ROOM_NAME_PATTERN, roomName } from '../../src/services/room-name.js'
import { joinUrl, roomUrl } from '../../src/services/join-url.js'
import { createSigner, UnsafeClaimsError } from '../../src/services/signer.js'
import { buildJitsiClaims } from '../../src/services/claims.js'
import { DEFAULT_POLICY } from '../../src/config/policy.js'
import { assertion, ec, ed, NOW_S, testConfig, visitBody } from '../helper.js'
import { buildSec, send, TOKENS, VISITS } from './fixtures.js'

type App = Parameters<typeof send>[0]
interface Participant { displayName: string, token: string, joinUrl: string }

/** POSTs a visit whose second participant (the patient) is changed by `patch`, correctly signed. */
async function visitWith (app: App, patient: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const raw = JSON.stringify(visitBody({ participants: [{ role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith' }, { role: 'patient', id: 'pid-42', displayName: 'José Núñez', ...patient }], ...extra }))
  return await send(app, `Bearer ${await assertion({ body: raw })}`, raw)
}
const patientOf = (res: { json: () => unknown }) => (res.json() as { participants: Participant[] }).participants[1] as Participant
const rules = (res: { json: () => unknown }) => ((res.json() as { errors?: Array<{ path: string, rule: string }> }).errors ?? [])

t.test('G-71 display names with C0/C1 controls, CR LF, NUL, DEL → 400', async (t) => {
  const { app } = await buildSec(t)
  const controls = ['\u0000', '\u0007', '\b', '\t', '\n', '\r\n', '\u000B', '\u001B[31m', '\u007F', '\u0080', '\u0085', '\u009B', '\u009F']
  for (const c of controls) {
    const res = await visitWith(app, { displayName: `Jane${c}Doe` })
    t.equal(res.statusCode, 400, `${JSON.stringify(c)} → 400`)
    t.ok(rules(res).some((e) => e.path === '/participants/1/displayName'), 'names the field')
    t.notOk(res.body.includes('Jane'), 'value not echoed')
  }
})

t.test('G-72 bidi overrides/isolates, zero-width, line/paragraph separators → 400; ZWNJ/ZWJ allowed (contract)', async (t) => {
  const { app } = await buildSec(t)
  const forbidden = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200B', '\u2060', '\uFEFF', '\u2028', '\u2029', '\u200E', '\u200F', '\u061C']
  for (const c of forbidden) {
    const res = await visitWith(app, { displayName: `Jane${c}Doe` })
    t.equal(res.statusCode, 400, `U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')} → 400`)
  }
  // contract §3: U+200C/U+200D stay, Persian and Indic names need them (the catalogue lists them as 400)
  for (const name of ['مهر\u200Cناز', 'क्\u200Dष', 'Jane\u200CDoe', 'Jane\u200DDoe']) {
    const res = await visitWith(app, { displayName: name })
    t.equal(res.statusCode, 200, `${JSON.stringify(name)} → 200`)
    t.equal(patientOf(res).displayName, name, 'kept as given')
  }
})

t.test('G-73 HTML/JS in names: < > refused; everything else kept literally, never HTML-encoded by us', async (t) => {
  const { app } = await buildSec(t)
  for (const name of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>', 'a<b', 'a>b', '\uFF1Cscript\uFF1E'.replace('\uFF1C', '<')]) {
    t.equal((await visitWith(app, { displayName: name })).statusCode, 400, `${name} → 400`)
  }
  for (const name of ['javascript:alert(1)', '&lt;b&gt;', 'Tom & Jerry', '"Quoted" O\'Neil', '{{7*7}}', '${7*7}', '%3Cscript%3E', '\uFF1Cscript\uFF1E']) {
    const res = await visitWith(app, { displayName: name })
    t.equal(res.statusCode, 200, `${name} → 200 (no < or >)`)
    const p = patientOf(res)
    t.equal(p.displayName, name, `${name}: response literal`)
    t.equal((decodeJwt(p.token).context as { user: { name: string } }).user.name, name, `${name}: token literal, not entity-encoded`)
  }
})

t.test('G-74 legitimate names → 200, unchanged in the token', async (t) => {
  const { app } = await buildSec(t)
  const names = ["O'Brien", 'José Núñez', 'Nguyễn Thị Minh Khai', '李小龍', 'محمد', 'Zoë-Anne', 'Jean-Luc Picard', 'Dr. J. R. R. Tolkien', 'Ana María de la Cruz', 'Søren Kierkegaard',
    'Łukasz Żółć', 'Ωμέγα', 'Иван Петров', 'שלום', 'กมล', '佐藤 花子', '김민준', 'Nǃxau', 'Mary-Kate O\'Neil-Smith', 'X Æ A-12', 'D\u2019Angelo']
  for (const name of names) {
    const res = await visitWith(app, { displayName: name })
    t.equal(res.statusCode, 200, `${name} → 200`)
    if (res.statusCode !== 200) continue
    const p = patientOf(res)
    t.equal(p.displayName, name.normalize('NFC'), `${name}: response`)
    t.equal((decodeJwt(p.token).context as { user: { name: string } }).user.name, name.normalize('NFC'), `${name}: token`)
  }
})

t.test('G-75 NFD input is normalised to NFC, then length-checked', async (t) => {
  const { app } = await buildSec(t)
  const nfd = 'José Núñez'.normalize('NFD')
  t.not(nfd, 'José Núñez', 'input really is NFD')
  const res = await visitWith(app, { displayName: nfd })
  t.equal(res.statusCode, 200, 'NFD name accepted')
  t.equal(patientOf(res).displayName, 'José Núñez'.normalize('NFC'), 'response carries NFC')
  t.equal((decodeJwt(patientOf(res).token).context as { user: { name: string } }).user.name, 'José Núñez'.normalize('NFC'), 'token carries NFC')
  const e64 = 'e\u0301'.repeat(64)
  t.equal([...e64].length, 128, '64 NFD é = 128 code points')
  t.equal((await visitWith(app, { displayName: e64 })).statusCode, 200, '64 é after NFC → 200')
  t.equal((await visitWith(app, { displayName: 'e\u0301'.repeat(65) })).statusCode, 400, '65 é after NFC → 400')
})

t.test('G-76 length in code points: 0 / blank / 64 / 65 / 64 emoji / 1 MB', async (t) => {
  const { app } = await buildSec(t)
  const cases: Array<[string, string, number]> = [
    ['empty', '', 400], ['spaces only', '   ', 400], ['NBSP only', '\u00A0\u00A0', 400], ['ideographic space only', '\u3000', 400],
    ['64 code points', 'a'.repeat(64), 200], ['65 code points', 'a'.repeat(65), 400],
    ['64 emoji (128 UTF-16 units)', '😀'.repeat(64), 200], ['65 emoji', '😀'.repeat(65), 400],
    ['64 CJK', '龍'.repeat(64), 200], ['64 astral CJK', '𠀀'.repeat(64), 200]
  ]
  for (const [what, name, status] of cases) t.equal((await visitWith(app, { displayName: name })).statusCode, status, `${what} → ${status}`)
  t.equal((await visitWith(app, { displayName: 'a'.repeat(1024 * 1024) })).statusCode, 413, '1 MB name → 413')
})

t.test('G-77 homoglyph / mixed-script names are accepted (names come from the EMR)', async (t) => {
  const { app } = await buildSec(t)
  for (const name of ['Dr. Sm\u0456th', '\u0410da Smith', 'Jоhn Dое']) {
    const res = await visitWith(app, { displayName: name })
    t.equal(res.statusCode, 200, `${JSON.stringify(name)} → 200`)
    t.equal(patientOf(res).displayName, name, 'kept as given')
  }
})

t.test('G-78 email: invalid forms, > 254 chars, IDN, a@b@c, CRLF → 400; never in the token by default', async (t) => {
  const { app } = await buildSec(t)
  const bad = ['plainaddress', '@example.org', 'a@', 'a@b@c.org', 'a b@example.org', 'a@example.org\r\nBcc: x@y.org', 'a@example.org\n', 'a@exämple.org', 'ä@example.org', 'a@[127.0.0.1]',
    'a@example', '<a@example.org>', 'a@example.org.', 'a..b@example.org', 'a@localhost', 'javascript:alert(1)@example.org', '', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.org`]
  for (const email of bad) {
    const res = await visitWith(app, { email })
    t.equal(res.statusCode, 400, `${JSON.stringify(email).slice(0, 40)} → 400`)
    t.notOk(email.length > 3 && res.body.includes(email), 'value not echoed')
  }
  for (const email of [12, ['jn@example.org'], { a: 1 }, null]) t.equal((await visitWith(app, { email })).statusCode, 400, `${JSON.stringify(email)} → 400`)
  const ok = await visitWith(app, { email: 'jn@example.org' })
  t.equal(ok.statusCode, 200, 'valid email → 200')
  const user = (decodeJwt(patientOf(ok).token).context as { user: Record<string, unknown> }).user
  t.notOk('email' in user, 'no email in context.user by default (JWT_INCLUDE_EMAIL=false)')
  t.notOk(ok.body.includes('jn@example.org'), 'email not echoed in the response')
})

t.test('G-79 avatar URLs are not a supported field → 400 whatever the value', async (t) => {
  const { app } = await buildSec(t)
  for (const [field, value] of [['avatar', 'http://evil.example/a.png'], ['avatar', 'javascript:alert(1)'], ['avatar', 'data:image/png;base64,AAAA'], ['avatar', 'https://169.254.169.254/'],
    ['avatar', 'https://meet.example.org/a.png'], ['avatarUrl', 'https://meet.example.org/a.png'], ['picture', 'https://x']] as const) {
    const res = await visitWith(app, { [field]: value })
    t.equal(res.statusCode, 400, `${field}: ${value.slice(0, 30)} → 400`)
    t.ok(rules(res).some((e) => e.rule === 'unknown_field'), 'unknown_field')
  }
})

t.test('G-80 tenant outside ^[a-z0-9-]{1,63}$ → 400', async (t) => {
  const { app } = await buildSec(t)
  const bad = ['../x', '..', '%2e%2e%2f', 'a/b', 'a?b', 'a#b', 'a@b', 'a b', ' clinic-a', 'Clinic-A', 'CLINIC-A', 'klinik-ä', 'clinic\u2010a', 'a'.repeat(64), '*', '', 'clinic_a', 'clinic.a', 'clinic-a\n', 'clinic-a\u0000']
  for (const tenant of bad) {
    const res = await visitWith(app, {}, { tenant })
    t.equal(res.statusCode, 400, `${JSON.stringify(tenant).slice(0, 30)} → 400`)
    t.ok(rules(res).some((e) => e.path === '/tenant'), 'names /tenant')
  }
  t.equal((await visitWith(app, {}, { tenant: 'a'.repeat(63) })).statusCode, 403, '63 chars: well-formed (then 403: not in the allow-list)')
})

t.test('G-81 appointment ids that could steer a path → 400; the room is always generated', async (t) => {
  const { app } = await buildSec(t)
  const bad = ['../', '../../admin', '?', 'a?b', '#', 'a#b', '@', 'a@b', '/', 'a/b', '%00', '%2e%2e%2f', '\u0000', 'a b', 'pc_eid-1\n', 'é', '*', '', 'a'.repeat(129), 'a'.repeat(1024)]
  for (const appointmentId of bad) {
    const res = await visitWith(app, {}, { appointmentId })
    t.equal(res.statusCode, 400, `${JSON.stringify(appointmentId).slice(0, 20)} → 400`)
  }
  // dots alone fit the contract's [A-Za-z0-9._:-]: harmless, because the id is only ever hashed
  for (const appointmentId of ['..', '.', 'a..b']) t.equal((await visitWith(app, {}, { appointmentId })).statusCode, 200, `${appointmentId} → 200 (hashed, never a path)`)
  const res = await visitWith(app, {}, { appointmentId: 'pc_eid-12345' })
  const { room } = res.json() as { room: string }
  t.notOk(room.includes('12345') || room.includes('pc_eid'), 'room does not carry the id')
  t.match(room, ROOM_NAME_PATTERN, 'room is generated')
})

t.test('G-82 property (10^5): generated room names match ^[a-z0-9]{20,40}$, deterministic, no PHI, tenants never collide', async (t) => {
  const secret = testConfig().roomNameSecret
  const tenant = fc.stringMatching(/^[a-z0-9-]{1,63}$/u)
  const appointment = fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/u)
  const seen = new Map<string, string>()
  let collisions = 0
  fc.assert(fc.property(tenant, tenant, appointment, (t1, t2, appt) => {
    const r1 = roomName(secret, '', t1, appt)
    if (!/^[a-z0-9]{20,40}$/u.test(r1)) return false
    if (r1 !== roomName(secret, '', t1, appt)) return false
    if (appt.length >= 8 && r1.includes(appt.toLowerCase())) return false
    if (t1.length >= 8 && r1.includes(t1)) return false
    if (t1 !== t2 && roomName(secret, '', t2, appt) === r1) return false
    const key = `${t1}\n${appt}`
    const prior = seen.get(r1)
    if (prior !== undefined && prior !== key) collisions++
    seen.set(r1, key)
    return true
  }), { numRuns: 100_000 })
  t.equal(collisions, 0, `no collisions across ${seen.size} distinct (tenant, appointment) pairs`)
  // the separator keeps ("a", "b-c") and ("a-b", "c")-style splits apart
  t.throws(() => roomName(secret, '', 'a', 'b\nc'), RangeError, 'a newline in an input is refused (keeps the separator unambiguous)')
  t.not(roomName(secret, '', 'ab', 'c'), roomName(secret, '', 'a', 'bc'), 'boundary split')
  t.not(roomName('x'.repeat(32) + 'other-secret', '', 'clinic-a', 'pc_eid-1'), roomName(secret, '', 'clinic-a', 'pc_eid-1'), 'keyed: another secret, another room')
})

t.test('G-83 property: join URLs parse (WHATWG URL) to the configured origin, /tenant/room, exactly one jwt', async (t) => {
  // unit level, many inputs: configured bases with and without a path prefix
  for (const base of ['https://meet.example.org', 'https://meet.example.org/video/', 'https://meet.example.org:8443']) {
    const cfg = testConfig({ JITSI_BASE_URL: base })
    const origin = new URL(base).origin
    const prefix = new URL(base).pathname.replace(/\/+$/u, '')
    fc.assert(fc.property(fc.option(fc.stringMatching(/^[a-z0-9-]{1,63}$/u), { nil: undefined }), fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/u), fc.stringMatching(/^[A-Za-z0-9_-]{10,60}\.[A-Za-z0-9_-]{10,200}\.[A-Za-z0-9_-]{43}$/u), (tenant, appt, token) => {
      const room = roomName(cfg.roomNameSecret, cfg.roomNamePrefix, tenant ?? '', appt)
      const url = new URL(joinUrl(roomUrl(cfg.jitsiBaseUrl, room, tenant), token, 'query'))
      const frag = new URL(joinUrl(roomUrl(cfg.jitsiBaseUrl, room, tenant), token, 'fragment'))
      return url.origin === origin && url.username === '' && url.password === '' &&
        url.pathname === `${prefix}${tenant === undefined ? '' : `/${tenant}`}/${room}` &&
        url.searchParams.getAll('jwt').length === 1 && url.searchParams.get('jwt') === token && [...url.searchParams.keys()].length === 1 && url.hash === '' &&
        frag.origin === origin && frag.search === '' && frag.hash === `#jwt=%22${token}%22` && frag.pathname === url.pathname
    }), { numRuns: 3000 })
    t.pass(`${base}: 3 000 fuzzed (tenant, appointment, token) triples`)
  }
  // route level: whatever tenant/appointment/name the EMR sends, a 200 carries a well-formed link
  const { app } = await buildSec(t)
  let ok = 0
  await fc.assert(fc.asyncProperty(
    fc.stringMatching(/^[a-z0-9-]{1,63}$/u), fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/u),
    fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z .'-]{0,40}$/u), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })),
    async (tenant, appointmentId, displayName) => {
      const raw = JSON.stringify(visitBody({ tenant, appointmentId, participants: [{ role: 'patient', id: 'pid-1', displayName }] }))
      const res = await send(app, `Bearer ${await assertion({ iss: 'ehr-rsa', key: ec.privateKey, alg: 'ES256', header: { kid: 'e1' }, body: raw })}`, raw)
      if (res.statusCode === 400) return true
      if (res.statusCode !== 200) return false
      ok++
      const body = res.json() as { room: string, roomUrl: string, participants: Participant[] }
      const url = new URL((body.participants[0] as Participant).joinUrl)
      return url.origin === 'https://meet.example.org' && url.pathname === `/${tenant}/${body.room}` && body.roomUrl === `https://meet.example.org/${tenant}/${body.room}` &&
        url.searchParams.getAll('jwt').length === 1 && url.searchParams.get('jwt') === (body.participants[0] as Participant).token && url.hash === ''
    }), { numRuns: 200 })
  t.ok(ok > 40, `${ok} issued links checked`)
  // tenant-less client: /room
  const raw = JSON.stringify(visitBody({ tenant: undefined }))
  const res = await send(app, `Bearer ${await assertion({ iss: 'ehr-ed', key: ed.privateKey, alg: 'EdDSA', header: { kid: undefined }, body: raw })}`, raw)
  const { room, participants } = res.json() as { room: string, participants: Participant[] }
  t.equal(new URL((participants[0] as Participant).joinUrl).pathname, `/${room}`, 'no tenant: /room')
})

t.test('G-84 room "*" / sub "*" can never reach a signature', async (t) => {
  const config = testConfig()
  const signer = createSigner(config.jwt)
  const claims = (over: { room?: string, tenant?: string }) => buildJitsiClaims({
    participant: { role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith' },
    template: DEFAULT_POLICY.provider,
    room: over.room ?? 'abcdefghijklmnopqrstuvwxyz',
    ...(over.tenant !== undefined ? { tenant: over.tenant } : {}),
    window: { iat: NOW_S, nbf: NOW_S - 30, exp: NOW_S + 3600 },
    consent: false,
    jti: 'jti-1'
  }, { issuer: config.jwt.issuer, audience: config.jwt.audience, subject: config.jwt.subject, includeEmail: false })
  for (const room of ['*', '', ' ', 'a*', 'room/../x', 'Room', '#', '%2A']) await t.rejects(signer.sign(claims({ room })), UnsafeClaimsError, `room ${JSON.stringify(room)} refused by the signer`)
  for (const tenant of ['*', '', 'A', '*.example']) await t.rejects(signer.sign(claims({ tenant })), UnsafeClaimsError, `sub ${JSON.stringify(tenant)} refused by the signer`)
  await t.resolves(signer.sign(claims({})), 'a concrete room and sub are signed')
  // and by every route
  const { app } = await buildSec(t)
  const customRoom = async (room: string, tenant?: string) => {
    const raw = JSON.stringify({ room, ...(tenant !== undefined ? { tenant } : {}), participant: { role: 'provider', id: 'u-1', displayName: 'Dr. Ada Smith' } })
    return await send(app, `Bearer ${await assertion({ iss: 'ehr-rsa', key: ec.privateKey, alg: 'ES256', header: { kid: 'e1' }, body: raw, path: TOKENS })}`, raw, { path: TOKENS })
  }
  for (const room of ['*', '**', 'a*b', '', '../x']) t.equal((await customRoom(room)).statusCode, 400, `/v1/tokens room ${JSON.stringify(room)} → 400`)
  t.equal((await customRoom('visit-room', '*')).statusCode, 400, '/v1/tokens tenant "*" → 400')
  const visitStar = JSON.stringify(visitBody({ tenant: '*' }))
  t.equal((await send(app, `Bearer ${await assertion({ iss: 'ehr-rsa', key: ec.privateKey, alg: 'ES256', header: { kid: 'e1' }, body: visitStar })}`, visitStar, { path: VISITS })).statusCode, 400, '/v1/visits tenant "*" → 400')
  const ok = await customRoom('visit-room', 'clinic-a')
  t.equal(ok.statusCode, 200, 'control: a concrete custom room')
  const payload = decodeJwt((ok.json() as { token: string }).token)
  t.equal(payload.room, 'visit-room', 'room claim concrete')
  t.equal(payload.sub, 'clinic-a', 'sub claim concrete')
})
