// Metrics: RED by route template, the domain counters, and no PHI in labels.
import t from 'tap'
import { build, signedPost, visitBody, assertion } from '../helper.js'

const scrape = async (app: Awaited<ReturnType<typeof build>>['app']) => (await app.inject('/metrics')).body

t.test('domain counters and RED histogram move, labelled by template', async (t) => {
  const { app } = await build(t)
  await signedPost(app, '/v1/visits', visitBody())
  await signedPost(app, '/v1/tokens', { appointmentId: 'a-1', tenant: 'clinic-a', participant: { role: 'caregiver', id: 'c-1', displayName: 'Kim' } })
  const replayed = JSON.stringify(visitBody())
  const token = await assertion({ body: replayed })
  for (let i = 0; i < 2; i++) await app.inject({ method: 'POST', url: '/v1/visits?patient=Jane', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload: replayed })
  await app.inject({ method: 'GET', url: '/no/such/path/pid-42' })
  const text = await scrape(app)
  t.match(text, /jts_tokens_issued_total\{role="provider"\} 1/)
  t.match(text, /jts_tokens_issued_total\{role="patient"\} 1/)
  t.match(text, /jts_tokens_issued_total\{role="caregiver"\} 1/)
  t.match(text, /jts_visits_issued_total 1/)
  t.match(text, /jts_emr_auth_failures_total\{reason="htu_mismatch",client="openemr-main"\} 2/, 'query string breaks htu binding')
  t.match(text, /jts_token_window_seconds_count 3/)
  t.match(text, /jts_emr_assertion_age_seconds_count\{client="openemr-main"\} 2/)
  t.match(text, /jts_http_requests_total\{method="POST",route="\/v1\/visits",status_class="2xx"\} 1/)
  t.match(text, /jts_http_requests_total\{method="POST",route="\/v1\/visits",status_class="4xx"\} 2/)
  t.match(text, /jts_http_requests_total\{method="GET",route="unmatched",status_class="4xx"\} 1/)
  t.match(text, /jts_process_resident_memory_bytes/)
  t.notMatch(text, /clinic-a|pid-42|Jane|user-7|patient=/, 'no tenant, participant or query values in labels')
})

t.test('replays are counted', async (t) => {
  const { app } = await build(t)
  const payload = JSON.stringify(visitBody())
  const token = await assertion({ body: payload })
  for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, payload })
  const text = await scrape(app)
  t.match(text, /jts_replay_rejections_total 2/)
  t.match(text, /jts_emr_auth_failures_total\{reason="replay",client="openemr-main"\} 2/)
})

t.test('unknown issuers never become label values', async (t) => {
  const { app } = await build(t)
  const payload = JSON.stringify(visitBody())
  await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: `Bearer ${await assertion({ body: payload, iss: 'attacker-chosen-issuer' })}` }, payload })
  const text = await scrape(app)
  t.match(text, /jts_emr_auth_failures_total\{reason="unknown_client",client="unknown"\} 1/)
  t.notMatch(text, /attacker-chosen-issuer/)
})

t.test('with METRICS_PORT the main port does not serve /metrics', async (t) => {
  const { app } = await build(t, { env: { METRICS_PORT: '9464' } })
  t.equal((await app.inject('/metrics')).statusCode, 404)
  t.ok(app.metrics.registry, 'the registry is still there for the metrics server')
})

t.test('homoglyph names are accepted but counted (G-77)', async (t) => {
  const { app } = await build(t)
  const res = await signedPost(app, '/v1/visits', visitBody({ participants: [
    { role: 'provider', id: 'u-1', displayName: 'Dr. Sm\u0456th' },
    { role: 'patient', id: 'p-1', displayName: 'Nguyễn Thị Minh Khai' },
    { role: 'caregiver', id: 'c-1', displayName: '李小龍 Bruce' }
  ] }))
  t.equal(res.statusCode, 200)
  t.match((await app.inject('/metrics')).body, /jts_display_names_mixed_script_total 1\n/, 'only the Latin+Cyrillic name counts')
})
