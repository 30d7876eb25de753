// `keygen`: a new EMR client key. HS256 prints a secret (48 random bytes, base64url: well over
// the 32-byte minimum and free of the characters that break .env and Lua strings); RS256 and
// ES256 write a PKCS#8 private key (mode 0600) and its SPKI public key, and print the
// registry entry the service operator adds to CLIENTS_FILE.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { MIN_SECRET_BYTES } from '../config/secrets.js'
import { EXIT_OK, UsageError, parse, type Io } from './io.js'

export const KEYGEN_USAGE = `usage: jitsi-token-service keygen [--alg HS256|RS256|ES256] [--out DIR] [--kid KID] [--bytes N] [--force]
  HS256 (default): prints a secret; with --out writes DIR/<kid>.secret (0600)
  RS256 / ES256:   writes DIR/<kid>.key.pem (0600) and DIR/<kid>.pub.pem; --out is required`

const KID = /^[A-Za-z0-9._:-]{1,64}$/u

export async function keygen (argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    alg: { type: 'string', default: 'HS256' },
    out: { type: 'string' },
    kid: { type: 'string' },
    bytes: { type: 'string', default: '48' },
    force: { type: 'boolean', default: false }
  })
  const alg = values.alg
  if (alg !== 'HS256' && alg !== 'RS256' && alg !== 'ES256') throw new UsageError('--alg must be HS256, RS256 or ES256')
  const kid = values.kid ?? `emr-${alg.toLowerCase()}`
  if (!KID.test(kid)) throw new UsageError('--kid must be 1-64 characters of [A-Za-z0-9._:-]')
  const bytes = Number(values.bytes)
  if (!Number.isInteger(bytes) || bytes < MIN_SECRET_BYTES || bytes > 512) throw new UsageError(`--bytes must be a whole number from ${MIN_SECRET_BYTES} to 512`)

  if (alg === 'HS256') {
    const secret = randomBytes(bytes).toString('base64url')
    if (values.out === undefined) {
      io.out(secret)
      return EXIT_OK
    }
    const path = writeNew(values.out, `${kid}.secret`, `${secret}\n`, values.force, 0o600)
    io.out(JSON.stringify({ kid, alg, secretFile: path }))
    return EXIT_OK
  }
  if (values.out === undefined) throw new UsageError(`--out DIR is required for ${alg}`)
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 3072 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string
  const privatePath = writeNew(values.out, `${kid}.key.pem`, privatePem, values.force, 0o600)
  const publicPath = writeNew(values.out, `${kid}.pub.pem`, publicPem, values.force, 0o644)
  io.err(`private key (keep it in the EMR): ${privatePath}`)
  io.err(`public key (give it to the service operator): ${publicPath}`)
  io.out(JSON.stringify({ kid, alg, publicKeyFile: publicPath }))
  return EXIT_OK
}

/** Never overwrites a key by accident: losing the old private key locks the EMR out. */
function writeNew (dir: string, name: string, content: string, force: boolean, mode: number): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = resolve(join(dir, name))
  if (existsSync(path) && !force) throw new UsageError(`${path} exists; pass --force to replace it`)
  writeFileSync(path, content, { mode })
  chmodSync(path, mode) // --force over an existing file keeps its old mode otherwise
  return path
}
