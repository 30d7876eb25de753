// POST /v1/tokens/inspect through app.inject: authenticated, strict body, checklist out,
// the token never echoed back.
import { SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { NOW_S, build, iso, signedPost, visitBody } from '../helper.js'

const PATH = '/v1/tokens/inspect'
interface Check { id: string, verdict: string, message: string }
interface Report { ok: boolean, summary: Record<string, number>, room?: string, tenant?: string, checks: Check[] }
const byId = (r: Report, id: string) => r.checks.find((c) => c.id === id)

async function issued (t: Test) {
  const built = await build(t)
  const res = await signedPost(built.app, '/v1/visits', visitBody())
  t.equal(res.statusCode, 200)
  const [provider, patient] = res.json().participants as Array<{ token: string, joinUrl: string }>
  return { ...built, provider: provider as { token: string, joinUrl: string }, patient: patient as { token: string, joinUrl: string } }
}

t.test('a join URL we issued passes at appointment time; the answer never contains the token', async (t) => {
  const { app, provider } = await issued(t)
  const res = await signedPost(app, PATH, { joinUrl: provider.joinUrl, at: iso(NOW_S + 3600) }, { path: PATH })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['cache-control'], 'no-store')
  const body = res.json() as Report
  t.equal(body.ok, true)
  t.equal(body.tenant, 'clinic-a')
  t.match(byId(body, 'signature'), { verdict: 'pass', message: /this service's JWT_APP_SECRET/u })
  t.match(byId(body, 'claims.room'), { verdict: 'pass' })
  t.match(byId(body, 'claims.sub'), { verdict: 'pass' })
  t.match(byId(body, 'time.at'), { verdict: 'pass' })
  // The visit starts in an hour: not valid now, which is only a warning when `at` is given.
  t.match(byId(body, 'time.now'), { verdict: 'warn' })
  const [h, p, s] = provider.token.split('.') as [string, string, string]
  for (const part of [provider.token, h + '.' + p, s, provider.joinUrl]) t.notOk(res.body.includes(part), 'no token material in the answer')
})

t.test('without `at` a token for a later visit fails time.now', async (t) => {
  const { app, patient } = await issued(t)
  const res = await signedPost(app, PATH, { token: patient.token }, { path: PATH })
  const body = res.json() as Report
  t.equal(body.ok, false)
  t.match(byId(body, 'time.now'), { verdict: 'fail', message: /not valid yet/u })
  t.match(byId(body, 'jitsi.config'), { verdict: 'warn' })
})

t.test('a token signed with another key fails the signature line', async (t) => {
  const { app } = await build(t)
  const token = await new SignJWT({ iss: 'x', aud: 'jitsi', sub: 'meet.jitsi', room: 'abc', nbf: NOW_S - 10, exp: NOW_S + 600 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode('another-secret-that-is-long-enough-0123456789'))
  const res = await signedPost(app, PATH, { token, jitsiEnv: { ENABLE_AUTH: '1', AUTH_TYPE: 'jwt', JWT_APP_ID: 'x' } }, { path: PATH })
  t.equal(res.statusCode, 200)
  const body = res.json() as Report
  t.match(byId(body, 'signature'), { verdict: 'fail' })
  t.match(byId(body, 'claims.iss'), { verdict: 'pass' })
  t.equal(body.ok, false)
})

t.test('jitsiEnv decides: domain verification on makes a wrong sub fail', async (t) => {
  const { app, provider } = await issued(t)
  const url = provider.joinUrl.replace('/clinic-a/', '/clinic-b/')
  const res = await signedPost(app, PATH, { joinUrl: url, at: iso(NOW_S + 3600), jitsiEnv: { ENABLE_AUTH: '1', AUTH_TYPE: 'jwt', JWT_APP_ID: 'openemr_telehealth', JWT_ENABLE_DOMAIN_VERIFICATION: 'true' } }, { path: PATH })
  const body = res.json() as Report
  t.match(byId(body, 'claims.sub'), { verdict: 'fail', message: /clinic-b/u })
  t.equal(body.ok, false)
})

t.test('authentication comes first: no assertion is 401 invalid_token', async (t) => {
  const { app } = await build(t)
  const res = await app.inject({ method: 'POST', url: PATH, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ token: 'a.b.c' }) })
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'invalid_token')
})

t.test('strict body: exactly one of token/joinUrl, no unknown fields, no secrets', async (t) => {
  const { app } = await build(t)
  const cases: Array<[unknown, string]> = [
    [{}, 'token_xor_join_url'],
    [{ token: 'a.b.c', joinUrl: 'https://meet.example.org/r?jwt=a.b.c' }, 'token_xor_join_url'],
    [{ token: 'a.b.c', extra: 1 }, 'unknown_field'],
    [{ token: 'a.b.c', jitsiEnv: { JWT_APP_SECRET: 'x' } }, 'no_secrets'],
    [{ token: 'a.b.c', at: 'tomorrow' }, 'invalid_format']
  ]
  for (const [body, rule] of cases) {
    const res = await signedPost(app, PATH, body, { path: PATH })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.ok((res.json().errors as Array<{ rule: string }>).some((e) => e.rule === rule), `${rule}: ${res.body}`)
  }
})

t.test('a malformed token is a failed checklist, not an error', async (t) => {
  const { app } = await build(t)
  const res = await signedPost(app, PATH, { token: 'not-a-jwt' }, { path: PATH })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { ok: false, checks: [{ id: 'token.format', verdict: 'fail' }] })
})
