// Signs the per-request EMR assertion (contract §2) that every /v1 call carries. Used by the
// TypeScript client and the `sign-request` CLI. The body hash is taken over the exact bytes
// that go on the wire, so callers pass bytes, never an object to re-serialise.
import { createHash, createPrivateKey, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'

export const ASSERTION_ALGS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const
export type AssertionAlg = typeof ASSERTION_ALGS[number]
export const ASSERTION_TYP = 'emr-request+jwt'
/** The service refuses assertions living longer than 300 s; a short life also limits replay. */
export const DEFAULT_TTL_SECONDS = 60
export const DEFAULT_AUDIENCE = 'jitsi-token-service'

/** An HMAC secret string (its UTF-8 bytes are the key), a PEM private key, or a KeyObject. */
export type AssertionKeyInput = string | KeyObject

export interface SignerOptions {
  clientId: string
  key: AssertionKeyInput
  /** defaults to HS256 for a secret, else from the private key's type */
  alg?: AssertionAlg
  kid?: string
  /** the service's SERVICE_AUDIENCE */
  audience?: string
  ttlSeconds?: number
}

export interface RequestToSign {
  method: string
  /** request path without query, e.g. /v1/visits */
  path: string
  body: Uint8Array | string
  /** the EMR user acting (`sub`), for the service's audit log */
  actor: string
  /** seconds since the epoch; defaults to the clock */
  nowS?: number
}

export type AssertionSigner = (req: RequestToSign) => Promise<string>

export const bodySha256 = (body: Uint8Array | string): string =>
  createHash('sha256').update(body).digest('base64url')

/** Turns what the caller has into a key object and the one algorithm it signs with. */
export function resolveKey (key: AssertionKeyInput, alg?: AssertionAlg): { key: KeyObject, alg: AssertionAlg } {
  let obj: KeyObject
  if (typeof key === 'string') {
    // A PEM block is a private key; any other string is an HMAC secret used as UTF-8 bytes.
    obj = key.includes('-----BEGIN') ? createPrivateKey(key) : createSecretKey(Buffer.from(key, 'utf8'))
  } else {
    obj = key
  }
  // The service refuses client secrets under 32 bytes; say so here rather than with a bare 401.
  if (obj.type === 'secret' && (obj.symmetricKeySize ?? 0) < 32) throw new Error('an HS256 secret must be at least 32 bytes')
  const natural = naturalAlg(obj)
  if (natural === undefined) throw new Error('unsupported key: use an HMAC secret, RSA (>= 2048 bits), P-256 or Ed25519 private key')
  if (alg !== undefined && alg !== natural) throw new Error(`key type does not fit alg ${alg} (it signs ${natural})`)
  return { key: obj, alg: natural }
}

function naturalAlg (key: KeyObject): AssertionAlg | undefined {
  if (key.type === 'secret') return 'HS256'
  if (key.type !== 'private') return undefined
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA'
  return undefined
}

export function createAssertionSigner (opts: SignerOptions): AssertionSigner {
  const { key, alg } = resolveKey(opts.key, opts.alg)
  const ttl = opts.ttlSeconds ?? DEFAULT_TTL_SECONDS
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 300) throw new Error('ttlSeconds must be 1-300')
  const header = opts.kid !== undefined ? { alg, typ: ASSERTION_TYP, kid: opts.kid } : { alg, typ: ASSERTION_TYP }
  return async (req) => {
    if (req.path.includes('?')) throw new Error('path must not carry a query')
    const now = req.nowS ?? Math.floor(Date.now() / 1000)
    return await new SignJWT({
      htm: req.method.toUpperCase(),
      htu: req.path,
      body_sha256: bodySha256(req.body)
    })
      .setProtectedHeader(header)
      .setIssuer(opts.clientId)
      .setSubject(req.actor)
      .setAudience(opts.audience ?? DEFAULT_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      // 24 random bytes → 32 base64url characters, inside the 16-128 [A-Za-z0-9_-] rule
      .setJti(randomBytes(24).toString('base64url'))
      .sign(key)
  }
}
