// Rate limits: per IP before auth, a stricter failed-auth budget, per client after auth; probes exempt.
import t from 'tap'
import { build, signedPost, visitBody } from '../helper.js'

t.test('per-IP limit: 429 problem+json with Retry-After; probes exempt', async (t) => {
  const { app, logs } = await build(t, { env: { RATE_LIMIT_IP_MAX: '3', RATE_LIMIT_WINDOW_SECONDS: '60' } })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await app.inject('/openapi.json')).statusCode)
  t.same(statuses, [200, 200, 200, 429, 429])
  const limited = await app.inject('/openapi.json')
  t.equal(limited.json().code, 'rate_limited')
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60)
  for (const probe of ['/healthz', '/readyz', '/metrics']) t.equal((await app.inject(probe)).statusCode, 200, `${probe} exempt`)
  t.equal((await app.inject({ url: '/openapi.json', remoteAddress: '10.1.2.3' })).statusCode, 200, 'other IPs unaffected')
  t.match((await app.inject('/metrics')).body, /jts_rate_limit_hits_total\{scope="ip"\} [1-9]/)
  t.ok(logs.lines.length > 0)
})

t.test('failed authentications have their own, stricter budget', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_AUTH_FAIL_MAX: '3' } })
  const bad = () => app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: 'Bearer a.b.c' }, payload: '{}' })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await bad()).statusCode)
  t.same(statuses, [401, 401, 401, 429, 429])
  const good = await signedPost(app, '/v1/visits', visitBody())
  t.equal(good.statusCode, 429, 'the IP is refused before its assertion is even verified')
  const elsewhere = await signedPost(app, '/v1/visits', visitBody(), { rawBody: JSON.stringify(visitBody()) })
  t.equal(elsewhere.statusCode, 429)
  t.match((await app.inject('/metrics')).body, /jts_rate_limit_hits_total\{scope="auth_failures"\} [1-9]/)
})

t.test('per-client limit after authentication', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_CLIENT_MAX: '2' } })
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await signedPost(app, '/v1/visits', visitBody())).statusCode)
  t.same(statuses, [200, 200, 429])
  t.match((await app.inject('/metrics')).body, /jts_rate_limit_hits_total\{scope="client"\} 1/)
})
