// One error shape: 404, 405, 500 — problem+json, stable codes, no stack or library text.
import { pino } from 'pino'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/logger.js'
import { LogCapture, build, testConfig } from '../helper.js'

t.test('404 and 405 (with Allow) share the problem shape', async (t) => {
  const { app } = await build(t)
  const missing = await app.inject('/v1/join/../admin')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { type: 'urn:jitsi-token-service:problem:not_found', title: 'Not Found', status: 404, code: 'not_found' })
  t.equal(missing.headers['cache-control'], 'no-store')
  for (const method of ['GET', 'PUT', 'DELETE'] as const) {
    const res = await app.inject({ method, url: '/v1/visits' })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers.allow, 'POST')
    t.equal(res.json().code, 'method_not_allowed')
  }
  t.equal((await app.inject({ method: 'POST', url: '/healthz' })).headers.allow, 'GET, HEAD')
})

t.test('500: generic body with requestId, stack only in the log', async (t) => {
  const logs = new LogCapture()
  const app = await buildApp(testConfig(), { logger: pino(loggerOptions('info'), logs) })
  t.teardown(() => app.close())
  app.get('/boom', async () => { throw new Error('secret internals: db password=hunter2') })
  const res = await app.inject('/boom')
  t.equal(res.statusCode, 500)
  t.same(Object.keys(res.json()).sort(), ['code', 'requestId', 'status', 'title', 'type'])
  t.equal(res.json().code, 'internal')
  t.notMatch(res.body, /hunter2|secret internals|at .*\.ts/)
  t.match(logs.text, /"msg":"unhandled error"/)
  t.match(logs.text, /hunter2/, 'the cause is in the log for operators')
})
