// Verifies the EMR's per-request assertion (contract §2): who is calling, for exactly this request, once.
// No Fastify here: inputs are the header, method, request-target and raw body bytes.
import { createHash, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import { decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { CLIENT_ALGS, ID_PATTERN, type Client, type ClientKey } from '../config/clients.js'
import { ApiError, AuthError, type AuthFailureReason } from '../errors.js'
import { parseStrictJson } from '../lib/strict-json.js'
import type { ReplayStore } from './replay-store.js'

export const ASSERTION_TYP = 'emr-request+jwt'
export const LEEWAY_SECONDS = 30
export const MAX_ASSERTION_LIFETIME = 300
/** Larger tokens are refused before any parsing (attack catalogue A-12). */
export const MAX_ASSERTION_BYTES = 8192

const ALLOWED_HEADER_PARAMS = new Set(['alg', 'typ', 'kid'])
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/iu
const JTI = /^[A-Za-z0-9_-]{16,128}$/u
const SUB = /^[\x21-\x7E]{1,256}$/u
const BODY_HASH = /^[A-Za-z0-9_-]{43}$/u

export interface AssertionRequest {
  authorization: string | undefined
  method: string
  /** the raw request-target (path and query): routes take no query, so any query breaks htu */
  target: string
  body: Buffer
  nowMs: number
}

export interface VerifierDeps {
  clients: ReadonlyMap<string, Client>
  audience: string
  replayStore: ReplayStore
}

export interface VerifiedCaller {
  client: Client
  /** the EMR user acting, for audit */
  sub: string
  kid?: string
  iat: number
  exp: number
}

export async function verifyAssertion (req: AssertionRequest, deps: VerifierDeps): Promise<VerifiedCaller> {
  if (req.authorization === undefined || req.authorization === '') throw new AuthError('missing_token')
  if (req.authorization.length > MAX_ASSERTION_BYTES + 7) throw new AuthError('malformed')
  const token = BEARER.exec(req.authorization)?.[1]
  if (token === undefined) throw new AuthError('malformed')

  const segments = token.split('.') as [string, string, string]
  // Canonical base64url only. A last character whose unused low bits are set decodes to the same
  // bytes as its canonical twin, so one signature would be accepted under several token strings
  // (catalogue A-14: a mutated token is never accepted unless byte-identical).
  if (segments.some((s) => Buffer.from(s, 'base64url').toString('base64url') !== s)) throw new AuthError('malformed')

  let header: Record<string, unknown>
  let unverified: JWTPayload
  try {
    // The header is parsed strictly: UTF-8 only, no duplicate names ({"alg":"none","alg":"HS256"}
    // means different things to first-wins and last-wins parsers), no prototype keys (A-8, B-21).
    const parsed = parseStrictJson(Buffer.from(segments[0], 'base64url'))
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('header is not an object')
    header = parsed as Record<string, unknown>
    unverified = decodeJwt(token)
  } catch {
    throw new AuthError('malformed')
  }
  const seen = { iss: unverified.iss, kid: header.kid }
  // jku/x5u/jwk/x5c/crit/b64/zip/cty… are refused outright: no key is ever taken from a token.
  if (Object.keys(header).some((k) => !ALLOWED_HEADER_PARAMS.has(k))) throw new AuthError('bad_header', seen)
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== ASSERTION_TYP) throw new AuthError('wrong_type', seen)
  if (typeof header.alg !== 'string' || !(CLIENT_ALGS as readonly string[]).includes(header.alg)) throw new AuthError('alg_mismatch', seen)
  if (header.kid !== undefined && (typeof header.kid !== 'string' || !ID_PATTERN.test(header.kid))) throw new AuthError('unknown_key', seen)

  const client = typeof unverified.iss === 'string' ? deps.clients.get(unverified.iss) : undefined
  if (client === undefined) throw new AuthError('unknown_client', seen)
  const key = selectKey(client, header.kid as string | undefined)
  if (key === undefined) throw new AuthError('unknown_key', seen)
  // The algorithm is pinned per key: a token's own alg never chooses how it is verified.
  if (key.alg !== header.alg) throw new AuthError('alg_mismatch', seen)

  const check: JwsCheck = { issuer: client.id, audience: deps.audience, nowMs: req.nowMs }
  let payload: JWTPayload
  try {
    payload = key.alg === 'HS256'
      ? verifyHs256(segments, key.key, unverified, check)
      : await verifyWithJose(token, key, check)
  } catch (err) {
    throw new AuthError(err instanceof AuthError ? err.reason : 'malformed', seen)
  }
  const claims = checkClaims(payload, req, deps.audience, seen)

  const ttlMs = (claims.exp + LEEWAY_SECONDS) * 1000 - req.nowMs
  let first: boolean
  try {
    first = await deps.replayStore.claimOnce(`${client.id}\n${claims.jti}`, ttlMs)
  } catch {
    // Fail closed: without the replay check nothing is issued.
    throw new ApiError('unavailable', { detail: 'replay store unavailable', headers: { 'retry-after': '1' } })
  }
  if (!first) throw new AuthError('replay', seen)
  return { client, sub: claims.sub, kid: key.kid, iat: claims.iat, exp: claims.exp }
}

export interface JwsCheck {
  issuer: string
  audience: string
  nowMs: number
}

/** Claims jwtVerify requires, in the order it checks them (its list, reversed and de-duplicated). */
const JOSE_PRESENCE_ORDER = ['iss', 'aud', 'jti', 'exp', 'iat', 'sub'] as const

/** RS256, ES256 and EdDSA: jose's jwtVerify. Throws AuthError with the reason (no `seen`). */
export async function verifyWithJose (token: string, key: ClientKey, check: JwsCheck): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: check.issuer,
      audience: check.audience,
      clockTolerance: LEEWAY_SECONDS,
      currentDate: new Date(check.nowMs),
      requiredClaims: ['iss', 'sub', 'aud', 'iat', 'exp', 'jti']
    })
    return payload
  } catch (err) {
    throw new AuthError(joseReason(err))
  }
}

/**
 * HS256: one synchronous node:crypto HMAC instead of jose's async WebCrypto, which cost more than
 * the rest of the request (docs/performance.md). Called after the checks in verifyAssertion (strict
 * header, canonical segments, pinned alg, known key), it does what jwtVerify does from there, in the
 * same order and with the same failure reasons: signature, required claims, iss, aud, iat type, nbf,
 * exp. `payload` is decodeJwt's strict parse of segments[1], the bytes the signature covers.
 * test/auth/assertion-hs256.test.ts holds the two paths to the same answers.
 */
export function verifyHs256 (segments: readonly [string, string, string], key: KeyObject, payload: JWTPayload, check: JwsCheck): JWTPayload {
  const expected = createHmac('sha256', key).update(`${segments[0]}.${segments[1]}`).digest()
  // segments are canonical base64url (checked above), so equal bytes means an identical string
  const given = Buffer.from(segments[2], 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AuthError('bad_signature')
  for (const claim of JOSE_PRESENCE_ORDER) {
    if (!Object.hasOwn(payload, claim)) throw new AuthError(claim === 'aud' ? 'wrong_audience' : 'bad_claims')
  }
  if (payload.iss !== check.issuer) throw new AuthError('bad_claims')
  const aud: unknown = payload.aud
  if (!(typeof aud === 'string' ? aud === check.audience : Array.isArray(aud) && aud.includes(check.audience))) throw new AuthError('wrong_audience')
  if (typeof payload.iat !== 'number') throw new AuthError('bad_claims')
  const now = Math.floor(check.nowMs / 1000)
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + LEEWAY_SECONDS)) throw new AuthError('not_yet_valid')
  if (typeof payload.exp !== 'number') throw new AuthError('bad_claims')
  if (payload.exp <= now - LEEWAY_SECONDS) throw new AuthError('expired')
  return payload
}

function selectKey (client: Client, kid: string | undefined): ClientKey | undefined {
  if (kid !== undefined) return client.keys.find((k) => k.kid === kid)
  return client.keys.length === 1 ? client.keys[0] : undefined
}

/** Claim checks the JWT libraries leave to us (attack catalogue C and D). */
function checkClaims (p: JWTPayload, req: AssertionRequest, audience: string, seen: { iss?: unknown, kid?: unknown }) {
  const fail = (reason: AuthFailureReason): never => { throw new AuthError(reason, seen) }
  const now = Math.floor(req.nowMs / 1000)
  // Only our audience, alone: an assertion meant for several services is not for us.
  if (!(p.aud === audience || (Array.isArray(p.aud) && p.aud.length === 1 && p.aud[0] === audience))) fail('wrong_audience')
  if (typeof p.sub !== 'string' || !SUB.test(p.sub)) fail('bad_claims')
  if (typeof p.jti !== 'string' || !JTI.test(p.jti)) fail('bad_claims')
  // Integer seconds only: 1e400 parses to Infinity and milliseconds look like the far future.
  const iat = p.iat as number
  const exp = p.exp as number
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || iat <= 0) fail('bad_claims')
  if (p.nbf !== undefined && (!Number.isSafeInteger(p.nbf) || (p.nbf as number) > exp)) fail('bad_claims')
  if (exp < iat) fail('bad_claims')
  if (iat > now + LEEWAY_SECONDS) fail('iat_in_future')
  if (exp - iat > MAX_ASSERTION_LIFETIME || exp > now + MAX_ASSERTION_LIFETIME + LEEWAY_SECONDS) fail('lifetime_too_long')
  if (p.htm !== req.method) fail('htm_mismatch')
  if (p.htu !== req.target) fail('htu_mismatch')
  if (typeof p.body_sha256 !== 'string' || !BODY_HASH.test(p.body_sha256)) fail('body_mismatch')
  const expected = createHash('sha256').update(req.body).digest()
  const given = Buffer.from(p.body_sha256 as string, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) fail('body_mismatch')
  return { iat, exp, sub: p.sub as string, jti: p.jti as string }
}

function joseReason (err: unknown): AuthFailureReason {
  if (err instanceof joseErrors.JWTExpired) return 'expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return 'wrong_audience'
    if (err.claim === 'nbf') return 'not_yet_valid'
    return 'bad_claims'
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature'
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_mismatch'
  if (err instanceof joseErrors.JOSENotSupported) return 'bad_header'
  return 'malformed'
}
