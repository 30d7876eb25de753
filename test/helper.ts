// Shared test setup: a real Config from a test environment, keys generated at run time,
// a frozen clock, a captured log stream, and a signer for EMR assertions.
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { SignJWT } from 'jose'
import { pino } from 'pino'
import type { Test } from 'tap'
import { buildApp, type BuildOptions } from '../src/app.js'
import { parseConfig, type Config } from '../src/config.js'
import { loggerOptions } from '../src/logger.js'

/** 2026-11-21T15:00:00Z: tests run at a fixed instant */
export const NOW_S = 1_795_273_200
export const NOW_MS = NOW_S * 1000
export const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z')

export const secret = () => randomBytes(32).toString('base64url')
export const JITSI_SECRET = secret()
export const ROOM_SECRET = secret()
export const AUDIT_SECRET = secret()
export const EMR_SECRET = secret()
export const OTHER_SECRET = secret()

export const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
export const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
export const ed = generateKeyPairSync('ed25519')
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string

export const CLIENTS = [
  { id: 'openemr-main', keys: [{ kid: 'k1', alg: 'HS256', secret: EMR_SECRET }], tenants: ['clinic-a', 'clinic-b'], roles: ['provider', 'patient', 'caregiver', 'interpreter', 'observer'] },
  { id: 'ehr-rsa', keys: [{ kid: 'r1', alg: 'RS256', publicKey: pem(rsa.publicKey) }, { kid: 'e1', alg: 'ES256', publicKey: pem(ec.publicKey) }], tenants: ['*'], allowCustomRooms: true },
  { id: 'ehr-ed', keys: [{ alg: 'EdDSA', publicKey: pem(ed.publicKey) }] },
  { id: 'patient-portal', keys: [{ alg: 'HS256', secret: OTHER_SECRET }], tenants: ['clinic-a'], roles: ['patient', 'caregiver'] }
]

export function testEnv (overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    JITSI_BASE_URL: 'https://meet.example.org',
    JWT_APP_ID: 'openemr_telehealth',
    JWT_APP_SECRET: JITSI_SECRET,
    ROOM_NAME_SECRET: ROOM_SECRET,
    AUDIT_HASH_SECRET: AUDIT_SECRET,
    CLIENTS_JSON: JSON.stringify(CLIENTS),
    LOG_LEVEL: 'info',
    // a busy CI box must not shed test traffic; the load-shedding rows (E-60) restore the defaults
    MAX_EVENT_LOOP_DELAY_MS: '10000',
    MAX_EVENT_LOOP_UTILIZATION: '1',
    ...overrides
  }
}

export const testConfig = (overrides: Record<string, string | undefined> = {}): Readonly<Config> => parseConfig(testEnv(overrides))

/** Collects every log line the app writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write (chunk: Buffer, _enc: BufferEncoding, cb: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''))
    cb()
  }

  get text () { return this.lines.join('\n') }
  records () { return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

export interface Built { app: FastifyInstance, logs: LogCapture, config: Readonly<Config> }

export async function build (t: Test, opts: { env?: Record<string, string | undefined>, config?: Readonly<Config>, build?: BuildOptions } = {}): Promise<Built> {
  const config = opts.config ?? testConfig(opts.env)
  const logs = new LogCapture()
  const app = await buildApp(config, { nowMs: () => NOW_MS, logger: pino(loggerOptions('info'), logs), ...opts.build })
  await app.ready()
  t.teardown(() => app.close())
  return { app, logs, config }
}

let jtiCounter = 0
export const freshJti = () => `test-jti-${String(++jtiCounter).padStart(8, '0')}-${randomBytes(6).toString('hex')}`
export const bodyHash = (body: string | Buffer) => createHash('sha256').update(body).digest('base64url')

export interface AssertionOptions {
  iss?: string
  key?: KeyObject | Uint8Array
  alg?: string
  header?: Record<string, unknown>
  claims?: Record<string, unknown>
  method?: string
  path?: string
  body?: string
  now?: number
}

/** The claims a correct openemr-main assertion carries for one request. */
export function assertionClaims (o: Pick<AssertionOptions, 'iss' | 'method' | 'path' | 'body' | 'now'> = {}): Record<string, unknown> {
  const now = o.now ?? NOW_S
  return {
    iss: o.iss ?? 'openemr-main',
    sub: 'emr-user-1',
    aud: 'jitsi-token-service',
    iat: now,
    exp: now + 60,
    jti: freshJti(),
    htm: o.method ?? 'POST',
    htu: o.path ?? '/v1/visits',
    body_sha256: bodyHash(o.body ?? '')
  }
}

/** Signs an EMR assertion the way a correct client does; every part can be overridden. */
export async function assertion (o: AssertionOptions = {}): Promise<string> {
  const claims = { ...assertionClaims(o), ...o.claims }
  const key = o.key ?? new TextEncoder().encode(EMR_SECRET)
  return await new SignJWT(claims as Record<string, unknown>)
    .setProtectedHeader({ alg: o.alg ?? 'HS256', typ: 'emr-request+jwt', kid: 'k1', ...o.header } as { alg: string })
    .sign(key)
}

export function visitBody (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    appointmentId: 'pc_eid-12345',
    tenant: 'clinic-a',
    start: iso(NOW_S + 3600),
    durationMinutes: 30,
    participants: [
      { role: 'provider', id: 'user-7', displayName: 'Dr. Ada Smith' },
      { role: 'patient', id: 'pid-42', displayName: 'José Núñez', email: 'jn@example.org' }
    ],
    ...overrides
  }
}

/** POSTs a JSON body with a correct assertion (unless one is given). */
export async function signedPost (app: FastifyInstance, path: string, body: unknown, o: AssertionOptions & { authorization?: string, contentType?: string, rawBody?: string } = {}) {
  const raw = o.rawBody ?? JSON.stringify(body)
  const token = await assertion({ ...o, path: o.path ?? path, body: raw })
  return await app.inject({
    method: (o.method ?? 'POST') as 'POST',
    url: path,
    headers: { 'content-type': o.contentType ?? 'application/json', authorization: o.authorization ?? `Bearer ${token}` },
    payload: raw
  })
}
