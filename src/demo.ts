// npm run demo: the real service on embedded DEV-ONLY defaults, then one real signed request.
// Secrets are random per start and live only in this process; `npm start` never sees them
// (it reads the environment only, and refuses to start without real secrets).
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { buildApp } from './app.js'
import { createAssertionSigner } from './client/signer.js'
import { parseConfig } from './config.js'
import { createLogger } from './logger.js'

const random = () => randomBytes(32).toString('base64url')
const DEMO_CLIENT = 'demo-emr'
const demoClientSecret = random()
const port = Number(process.env.PORT ?? 3000)
const base = `http://127.0.0.1:${port}`

const config = parseConfig({
  // docker-jitsi-meet's default PUBLIC_URL; set JITSI_BASE_URL/JWT_APP_ID/JWT_APP_SECRET to match yours
  JITSI_BASE_URL: process.env.JITSI_BASE_URL ?? 'https://localhost:8443',
  JWT_APP_ID: process.env.JWT_APP_ID ?? 'jitsi-token-service-demo',
  JWT_APP_SECRET: process.env.JWT_APP_SECRET ?? random(),
  ROOM_NAME_SECRET: random(),
  AUDIT_HASH_SECRET: random(),
  HOST: '127.0.0.1',
  PORT: String(port),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  CLIENTS_JSON: JSON.stringify([{ id: DEMO_CLIENT, keys: [{ kid: 'demo', alg: 'HS256', secret: demoClientSecret }], tenants: ['*'] }])
})

const app = await buildApp(config, { logger: createLogger(config.logLevel) })
app.log.warn('DEV ONLY: demo configuration with random per-start secrets and one HS256 demo client; use `npm start` with real configuration in production')
await app.listen({ host: config.host, port: config.port })
process.on('SIGINT', () => { void app.close().then(() => process.exit(0)) })
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })

// The same signer the TypeScript client uses: what the demo shows is what an EMR ships.
const signAssertion = createAssertionSigner({ clientId: DEMO_CLIENT, key: demoClientSecret, kid: 'demo', audience: config.serviceAudience, ttlSeconds: 300 })
const assertionFor = (path: string, body: string) => signAssertion({ method: 'POST', path, body, actor: 'demo-clinician' })

const start = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 5 * 60_000).toISOString().replace('.000Z', 'Z')
const body = JSON.stringify({
  appointmentId: 'demo-appointment-1',
  start,
  durationMinutes: 30,
  participants: [
    { role: 'provider', id: 'clinician-1', displayName: 'Dr. Ada Smith' },
    { role: 'patient', id: 'patient-1', displayName: 'José Núñez' }
  ]
})
const response = await fetch(`${base}/v1/visits`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${await assertionFor('/v1/visits', body)}` },
  body
})
const visit = await response.json() as { room: string, participants: Array<{ role: string, joinUrl: string, token: string, notBefore: string, expiresAt: string }> }
console.log(`\nPOST /v1/visits → ${response.status}; room ${visit.room}\n`)
for (const p of visit.participants ?? []) {
  const claims = decodeJwt(p.token) as { context: { user: { moderator: boolean } } }
  console.log(`  ${p.role.padEnd(9)} moderator=${String(claims.context.user.moderator).padEnd(5)} valid ${p.notBefore} → ${p.expiresAt}\n  ${p.joinUrl}\n`)
}

const bodyFile = join(tmpdir(), 'jitsi-token-service-demo-visit.json')
writeFileSync(bodyFile, body.replace('demo-appointment-1', 'demo-appointment-2'))
const curlBody = body.replace('demo-appointment-1', 'demo-appointment-2')
console.log('Try it yourself (single-use assertion, valid 5 minutes):\n')
console.log(`curl -sS ${base}/v1/visits -H 'content-type: application/json' \\\n  -H 'authorization: Bearer ${await assertionFor('/v1/visits', curlBody)}' \\\n  --data-binary @${bodyFile}\n`)
console.log(`Ops: curl ${base}/healthz  ·  curl ${base}/readyz  ·  curl ${base}/metrics  ·  Ctrl-C to stop\n`)
