// Signs Jitsi tokens with the deployment's key (HS256 app_secret or RS256 + kid), imported once at boot.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Config } from '../config.js'
import { CONCRETE_ROOM_PATTERN, TENANT_PATTERN, XMPP_DOMAIN_PATTERN } from '../lib/patterns.js'
import type { JitsiClaims } from './claims.js'

export interface Signer {
  readonly alg: 'HS256' | 'RS256'
  readonly kid?: string
  sign (claims: JitsiClaims): Promise<string>
}

export class UnsafeClaimsError extends Error {
  override name = 'UnsafeClaimsError'
}

/** Rooms are generated from [a-z0-9-]; anything else, `*` above all, never reaches a signature.
 * Refuses wildcard or malformed scope claims whatever route built them (attack catalogue G-84). */
export function assertConcreteScope (claims: JitsiClaims): void {
  if (!CONCRETE_ROOM_PATTERN.test(claims.room)) throw new UnsafeClaimsError('room claim is not a concrete room name')
  if (!TENANT_PATTERN.test(claims.sub) && !XMPP_DOMAIN_PATTERN.test(claims.sub)) throw new UnsafeClaimsError('sub claim is not a concrete tenant or domain')
  if (!(Number.isSafeInteger(claims.nbf) && Number.isSafeInteger(claims.exp) && claims.exp > claims.nbf)) throw new UnsafeClaimsError('token window is empty')
}

/** base64url('{"alg":"HS256","typ":"JWT"}'): the exact header jose's SignJWT writes for HS256. */
export const HS256_HEADER_B64 = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

export function createSigner (jwt: Config['jwt']): Signer {
  if (jwt.signType === 'HS256') {
    // Prosody uses app_secret's bytes as the HMAC key, so do we (no base64 decoding).
    const key: KeyObject = createSecretKey(Buffer.from(jwt.appSecret as string, 'utf8'))
    return {
      alg: 'HS256',
      kid: undefined,
      // HS256 is one synchronous HMAC with node:crypto: jose's SignJWT goes through async WebCrypto,
      // which cost about 4× the rest of the request (docs/performance.md). The bytes are the same:
      // header {"alg":"HS256","typ":"JWT"}, payload JSON.stringify(claims), HMAC-SHA256 over both.
      async sign (claims) {
        assertConcreteScope(claims)
        if (!Number.isFinite(claims.iat)) throw new TypeError('"iat" claim must be a finite number')
        const signingInput = `${HS256_HEADER_B64}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
        return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`
      }
    }
  }
  const key = jwt.privateKey as KeyObject
  const header = { alg: 'RS256', typ: 'JWT', kid: jwt.kid as string }
  return {
    alg: 'RS256',
    kid: jwt.kid,
    async sign (claims) {
      assertConcreteScope(claims)
      return await new SignJWT({ ...claims }).setProtectedHeader(header).sign(key)
    }
  }
}
