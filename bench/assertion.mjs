// EMR assertions and request bodies for the load generator. Signed with node:crypto HMAC (not jose)
// so that producing one costs a few microseconds and the client is never the bottleneck.
import { createHmac, randomBytes } from 'node:crypto'

const b64u = (s) => Buffer.from(s).toString('base64url')

/**
 * Returns sign(method, path, bodyBuffer) → compact JWS, the way test/helper.ts signs assertions:
 * header {alg:'HS256',typ:'emr-request+jwt',kid}, claims iss/sub/aud/iat/exp/jti/htm/htu/body_sha256.
 */
export function assertionSigner ({ iss, kid, secret, audience = 'jitsi-token-service', lifetime = 60 }) {
  const header = b64u(JSON.stringify({ alg: 'HS256', typ: 'emr-request+jwt', kid }))
  const key = Buffer.from(secret, 'utf8')
  const prefix = randomBytes(6).toString('base64url')
  let counter = 0
  /** `bodySha256`: base64url SHA-256 of the exact body bytes (computed once per body by the caller). */
  return function sign (method, path, bodySha256, nowS = Math.floor(Date.now() / 1000)) {
    const claims = {
      iss,
      sub: 'bench-user-1',
      aud: audience,
      iat: nowS,
      exp: nowS + lifetime,
      jti: `${prefix}-${(++counter).toString(36).padStart(10, '0')}`,
      htm: method,
      htu: path,
      body_sha256: bodySha256
    }
    const signingInput = `${header}.${b64u(JSON.stringify(claims))}`
    return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`
  }
}

const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z')
const ROLES = ['provider', 'patient', 'caregiver', 'interpreter', 'observer']
const NAMES = ['Dr. Ada Smith', 'José Núñez', 'Ana María García', 'Li Wei', 'Fatima Zahra', 'Jean-Luc Picard', 'Anja Müller', 'Ravi Shankar', 'O\'Brien Siobhan', 'Zoë Kravitz']

function participant (i, n) {
  return { role: i === 0 ? 'provider' : ROLES[1 + ((i - 1) % 4)], id: `user-${n}-${i}`, displayName: NAMES[i % NAMES.length] }
}

/** Request body bytes for a scenario; `n` makes every body (and room) different. */
export function bodyFor (kind, n, nowS = Math.floor(Date.now() / 1000)) {
  const start = iso(nowS + 600)
  if (kind === 'tokens') {
    return Buffer.from(JSON.stringify({ appointmentId: `bench-${n}`, tenant: 'clinic-a', participant: participant(1, n), start, durationMinutes: 30 }))
  }
  const count = kind === 'visit10' ? 10 : 2
  return Buffer.from(JSON.stringify({
    appointmentId: `bench-${n}`,
    tenant: 'clinic-a',
    start,
    durationMinutes: 30,
    participants: Array.from({ length: count }, (_, i) => participant(i, n))
  }))
}
