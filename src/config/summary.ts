// The non-secret summary of a parsed configuration: printed by `check-config` and logged at start.
import type { Config } from '../config.js'

/** One line per concern; never a secret, key or Redis URL (it may carry a password). */
export function configSummary (c: Readonly<Config>): string[] {
  const clients = [...c.clients.values()].map((cl) => `${cl.id} (${cl.keys.map((k) => k.kid !== undefined ? `${k.kid}:${k.alg}` : k.alg).join(', ')})`)
  return [
    `JITSI_BASE_URL     ${c.jitsiBaseUrl}`,
    `JWT_SIGN_TYPE      ${c.jwt.signType}${c.jwt.kid !== undefined ? ` (kid ${c.jwt.kid})` : ''}, signing key set`,
    `Jitsi token        iss=${c.jwt.issuer} aud=${c.jwt.audience} sub=${c.jwt.subject} (tenant when a visit has one)`,
    `SERVICE_AUDIENCE   ${c.serviceAudience}`,
    `clients            ${clients.join('; ')}`,
    `TOKEN_IN_URL       ${c.tokenInUrl}`,
    `replay store       ${c.redisUrl !== undefined ? 'redis' : 'memory (one replica only)'}`,
    `time windows       nbf skew ${c.nbfSkewSeconds}s, late grace ${c.lateGraceMinutes}min, max visit ${c.maxVisitMinutes}min, max advance ${c.maxAdvanceDays}d, ad-hoc TTL ${c.defaultTokenTtlSeconds}s`
  ]
}
