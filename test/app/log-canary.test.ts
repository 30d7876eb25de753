// Canary: run the route suite with a captured log stream; no secret, token, name or email may appear,
// and every line must be one line of JSON.
import t from 'tap'
import { AUDIT_SECRET, EMR_SECRET, JITSI_SECRET, ROOM_SECRET, assertion, build, signedPost, visitBody } from '../helper.js'

const NAME = 'Canary Patientname'
const EMAIL = 'canary@example.org'

t.test('no canary value in any log line', async (t) => {
  const { app, logs } = await build(t, { env: { LOG_LEVEL: 'trace' } })
  const canaryVisit = visitBody({ participants: [{ role: 'patient', id: 'canary-pid', displayName: NAME, email: EMAIL }, { role: 'provider', id: 'dr-1', displayName: 'Dr. Canary' }] })
  const tokens: string[] = []
  const ok = await signedPost(app, '/v1/visits', canaryVisit)
  t.equal(ok.statusCode, 200)
  for (const p of ok.json().participants) tokens.push(p.token)
  const tok = await signedPost(app, '/v1/tokens', { appointmentId: 'c-1', tenant: 'clinic-a', participant: { role: 'patient', id: 'canary-pid', displayName: NAME, email: EMAIL } })
  tokens.push(tok.json().token)
  // failures of every kind, carrying the canaries in body, query and headers
  const bodyText = JSON.stringify(canaryVisit)
  const assertionToken = await assertion({ body: bodyText })
  tokens.push(assertionToken)
  await app.inject({ method: 'POST', url: `/v1/visits?name=${encodeURIComponent(NAME)}`, headers: { 'content-type': 'application/json', authorization: `Bearer ${assertionToken}`, 'x-patient': EMAIL }, payload: bodyText })
  await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: `Bearer ${assertionToken}` }, payload: bodyText })
  await signedPost(app, '/v1/visits', visitBody({ participants: [{ role: 'patient', id: 'x', displayName: `${NAME}\u202E` }] }))
  await signedPost(app, '/v1/visits', { ...canaryVisit, extra: EMAIL })
  await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'text/plain' }, payload: NAME })
  await app.inject({ method: 'GET', url: `/missing/${encodeURIComponent(EMAIL)}` })
  await app.inject({ method: 'POST', url: '/v1/visits', headers: { 'content-type': 'application/json', authorization: `Bearer ${JITSI_SECRET}.${EMR_SECRET}.x` }, payload: '{}' })

  t.ok(logs.lines.length > 10, `${logs.lines.length} log lines captured`)
  const canaries: Record<string, string> = { JITSI_SECRET, EMR_SECRET, ROOM_SECRET, AUDIT_SECRET, NAME, EMAIL, 'patient id': 'canary-pid' }
  tokens.forEach((tk, i) => { canaries[`token ${i}`] = tk; canaries[`token ${i} signature`] = tk.split('.')[2] as string })
  for (const [label, value] of Object.entries(canaries)) t.notOk(logs.text.includes(value), `${label} never logged`)
  for (const line of logs.lines) {
    t.doesNotThrow(() => JSON.parse(line), 'each line is JSON')
    t.notOk(line.includes('\n'), 'single line')
  }
})
