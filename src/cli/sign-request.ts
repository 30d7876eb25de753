// `sign-request`: one EMR assertion for one request, plus a curl command that sends exactly the
// bytes that were hashed (--data-binary @file; -d would strip newlines and break body_sha256).
import { readFileSync } from 'node:fs'
import { readSecretFile } from '../config/secrets.js'
import { ASSERTION_ALGS, DEFAULT_AUDIENCE, createAssertionSigner, type AssertionAlg } from '../client/signer.js'
import { EXIT_OK, UsageError, parse, required, type Io } from './io.js'

export const SIGN_REQUEST_USAGE = `usage: jitsi-token-service sign-request --client ID --key FILE --path /v1/visits [--body FILE]
       [--method POST] [--alg HS256|RS256|ES256|EdDSA] [--kid KID] [--sub EMR_USER]
       [--aud jitsi-token-service] [--ttl 60] [--url http://localhost:3000]
  --key is the HS256 secret file (one trailing newline ignored) or a PEM private key.
  Prints the assertion, then a curl command. The assertion is single-use.`

/** POSIX single quotes: the only character needing care inside them is the quote itself. */
export const shellQuote = (s: string): string => `'${s.replace(/'/gu, `'\\''`)}'`

export async function signRequest (argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    client: { type: 'string' },
    key: { type: 'string' },
    alg: { type: 'string' },
    kid: { type: 'string' },
    sub: { type: 'string', default: 'ops-cli' },
    aud: { type: 'string', default: DEFAULT_AUDIENCE },
    method: { type: 'string', default: 'POST' },
    path: { type: 'string' },
    body: { type: 'string' },
    ttl: { type: 'string', default: '60' },
    url: { type: 'string', default: 'http://localhost:3000' }
  })
  const clientId = required(values.client, '--client')
  const keyFile = required(values.key, '--key')
  const path = required(values.path, '--path')
  if (!path.startsWith('/') || path.includes('?') || path.includes('#')) throw new UsageError('--path must be a request path without query, e.g. /v1/visits')
  if (values.alg !== undefined && !(ASSERTION_ALGS as readonly string[]).includes(values.alg)) throw new UsageError(`--alg must be one of ${ASSERTION_ALGS.join(', ')}`)
  const method = values.method.toUpperCase()
  let keyText: string
  let body: Buffer
  try {
    keyText = readSecretFile(keyFile)
  } catch {
    throw new UsageError(`cannot read --key ${keyFile}`)
  }
  try {
    body = values.body === undefined ? Buffer.alloc(0) : readFileSync(values.body)
  } catch {
    throw new UsageError(`cannot read --body ${values.body}`)
  }
  let sign
  try {
    sign = createAssertionSigner({ clientId, key: keyText, alg: values.alg as AssertionAlg | undefined, kid: values.kid, audience: values.aud, ttlSeconds: Number(values.ttl) })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const assertion = await sign({ method, path, body, actor: values.sub, nowS: io.now() })
  const target = values.url.replace(/\/+$/u, '') + path
  const curl = ['curl', '-sS', '-X', method, shellQuote(target), '-H', shellQuote('Content-Type: application/json'), '-H', shellQuote(`Authorization: Bearer ${assertion}`)]
  if (values.body !== undefined) curl.push('--data-binary', `@${shellQuote(values.body)}`)
  io.out(assertion)
  io.out(curl.join(' '))
  io.err(`signed ${method} ${path} (${body.length} body bytes) as ${clientId}; valid ${values.ttl} s, single use`)
  return EXIT_OK
}
