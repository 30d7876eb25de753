// Signs Jitsi tokens with the deployment's key (HS256 app_secret or RS256 + kid), imported once at boot.
import { createSecretKey, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import type { Config } from '../config.js'
import type { JitsiClaims } from './claims.js'

export interface Signer {
  readonly alg: 'HS256' | 'RS256'
  readonly kid?: string
  sign (claims: JitsiClaims): Promise<string>
}

/** Rooms are generated from [a-z0-9-]; anything else, `*` above all, never reaches a signature. */
const CONCRETE_ROOM = /^[a-z0-9][a-z0-9-]{0,127}$/u
const CONCRETE_SUB = /^[a-z0-9][a-z0-9.-]{0,252}$/u

export class UnsafeClaimsError extends Error {}

/** Refuses wildcard or malformed scope claims whatever route built them (attack catalogue G-84). */
export function assertConcreteScope (claims: JitsiClaims): void {
  if (!CONCRETE_ROOM.test(claims.room)) throw new UnsafeClaimsError('room claim is not a concrete room name')
  if (!CONCRETE_SUB.test(claims.sub)) throw new UnsafeClaimsError('sub claim is not a concrete tenant or domain')
  if (!(Number.isSafeInteger(claims.nbf) && Number.isSafeInteger(claims.exp) && claims.exp > claims.nbf)) throw new UnsafeClaimsError('token window is empty')
}

export function createSigner (jwt: Config['jwt']): Signer {
  const alg = jwt.signType
  const key: KeyObject = alg === 'HS256'
    // Prosody uses app_secret's bytes as the HMAC key, so do we (no base64 decoding).
    ? createSecretKey(Buffer.from(jwt.appSecret as string, 'utf8'))
    : jwt.privateKey as KeyObject
  const header = alg === 'HS256' ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid: jwt.kid as string }
  return {
    alg,
    kid: jwt.kid,
    async sign (claims) {
      assertConcreteScope(claims)
      return await new SignJWT({ ...claims }).setProtectedHeader(header).sign(key)
    }
  }
}
