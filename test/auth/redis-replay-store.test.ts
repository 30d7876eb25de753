// REDIS_URL: the replay store and rate limits shared by replicas, against a real redis-server.
import { Redis } from 'ioredis'
import t from 'tap'
import { REPLAY_KEY_PREFIX } from '../../src/auth/redis-replay-store.js'
import { NOW_S, assertion, build, visitBody } from '../helper.js'
import { startRedis } from '../fixtures/redis-server.js'

const redis = await startRedis()
t.teardown(() => redis.stop())

/** Like Kubernetes: no traffic until /readyz says the replay store answers. */
async function ready (built: Awaited<ReturnType<typeof build>>) {
  for (let i = 0; i < 50; i++) {
    if ((await built.app.inject('/readyz')).statusCode === 200) return built
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('app never became ready')
}

t.test('two replicas sharing Redis accept an assertion exactly once when 50 copies race', async (t) => {
  const a = await ready(await build(t, { env: { REDIS_URL: redis.url } }))
  const b = await ready(await build(t, { env: { REDIS_URL: redis.url } }))
  const payload = JSON.stringify(visitBody())
  const token = await assertion({ body: payload })
  const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).app.inject({
    method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload
  })))
  const statuses = responses.map((r) => r.statusCode)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'exactly one accepted')
  t.equal(statuses.filter((s) => s === 401).length, 49, 'every copy refused')
})

t.test('the jti is kept until exp + leeway (atomic SET NX PX)', async (t) => {
  const { app } = await ready(await build(t, { env: { REDIS_URL: redis.url } }))
  const payload = JSON.stringify(visitBody())
  const jti = 'ttl-probe-jti-0000000001'
  const token = await assertion({ body: payload, claims: { jti, exp: NOW_S + 120 } })
  // another client address: the 49 refusals above spent 127.0.0.1's shared failed-auth budget
  const res = await app.inject({ method: 'POST', url: '/v1/visits', remoteAddress: '127.0.0.2', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload })
  t.equal(res.statusCode, 200, res.body)
  const probe = new Redis(redis.url)
  t.teardown(() => probe.disconnect())
  const pttl = await probe.pttl(`${REPLAY_KEY_PREFIX}openemr-main\n${jti}`)
  t.ok(pttl > 145_000 && pttl <= 150_000, `ttl ${pttl} ms ≈ (exp + 30 − now) s`)
})

t.test('rate-limit counters are shared across replicas', async (t) => {
  const env = { REDIS_URL: redis.url, RATE_LIMIT_IP_MAX: '5' }
  const a = await ready(await build(t, { env }))
  const b = await ready(await build(t, { env }))
  // a fresh key space per run: the limiter keys on the client IP, so use a distinct remote address
  const remoteAddress = '127.0.0.77'
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) statuses.push((await (i % 2 === 0 ? a : b).app.inject({ method: 'GET', url: '/nope', remoteAddress })).statusCode)
  t.same(statuses, [404, 404, 404, 404, 404, 429, 429, 429])
})

t.test('Redis slow or down: /v1 fails closed with 503 within 1 s, readiness false, liveness green', async (t) => {
  const { app } = await ready(await build(t, { env: { REDIS_URL: redis.url } }))
  const payload = JSON.stringify(visitBody())
  redis.pause()
  t.teardown(() => redis.resume())
  // a request caught in flight when Redis hangs still answers inside the budget
  const inFlightStart = Date.now()
  const inFlight = await app.inject({ method: 'POST', url: '/v1/visits', remoteAddress: '127.0.0.3', headers: { 'content-type': 'application/json', authorization: `Bearer ${await assertion({ body: payload })}` }, payload })
  const inFlightMs = Date.now() - inFlightStart
  t.equal(inFlight.statusCode, 503)
  t.ok(inFlightMs < 1000, `in-flight request answered in ${inFlightMs} ms`)
  await new Promise((resolve) => setTimeout(resolve, 600)) // the background probe notices
  const started = Date.now()
  const res = await app.inject({ method: 'POST', url: '/v1/visits', remoteAddress: '127.0.0.3', headers: { 'content-type': 'application/json', authorization: `Bearer ${await assertion({ body: payload })}` }, payload })
  const elapsed = Date.now() - started
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'unavailable')
  t.ok(res.headers['retry-after'], 'Retry-After present')
  t.notOk(res.body.includes('eyJ'), 'nothing issued')
  t.ok(elapsed < 50, `answered in ${elapsed} ms once the outage is known`)
  const readiness = await app.inject('/readyz')
  t.equal(readiness.statusCode, 503)
  t.same(readiness.json().failing, ['replay_store'])
  t.equal((await app.inject('/healthz')).statusCode, 200)
  redis.resume()
  // ioredis keeps the connection: once Redis answers again, so do we
  let recovered = 0
  for (let i = 0; i < 30 && recovered !== 200; i++) {
    recovered = (await app.inject('/readyz')).statusCode
    if (recovered !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(recovered, 200, 'ready again after Redis recovers')
})
