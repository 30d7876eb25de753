// Configuration: the environment parsed once by zod into a frozen, typed object (contract §8).
// A bad value stops the process before it listens, with one message naming every bad
// variable and never printing a value.
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { loadClients, type Client } from './config/clients.js'
import { loadPolicy, type Policy } from './config/policy.js'
import { resolveSecretVar, secretProblem } from './config/secrets.js'
import { ROOM_PREFIX_PATTERN, XMPP_DOMAIN_PATTERN } from './lib/patterns.js'

export type SignType = 'HS256' | 'RS256'

export interface Config {
  host: string
  port: number
  metricsPort?: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** origin + optional path prefix, no trailing slash */
  jitsiBaseUrl: string
  jwt: {
    appId: string
    signType: SignType
    /** HS256 only: the UTF-8 string Prosody uses as `app_secret` */
    appSecret?: string
    /** RS256 only */
    privateKey?: KeyObject
    kid?: string
    issuer: string
    audience: string
    subject: string
    includeEmail: boolean
  }
  roomNameSecret: string
  roomNamePrefix: string
  auditHashSecret: string
  serviceAudience: string
  clients: ReadonlyMap<string, Client>
  redisUrl?: string
  tokenInUrl: 'query' | 'fragment'
  policy: Policy
  nbfSkewSeconds: number
  lateGraceMinutes: number
  maxVisitMinutes: number
  maxAdvanceDays: number
  defaultTokenTtlSeconds: number
  rateLimit: { windowMs: number, ipMax: number, authFailMax: number, clientMax: number }
  trustProxy: string | false
  shutdownDelayMs: number
  maxEventLoopDelayMs: number
  /** 1 switches the utilisation check off (utilisation never exceeds 1) */
  maxEventLoopUtilization: number
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor (problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const wholeNumber = (min: number, max: number) =>
  z.string().regex(/^\d+$/u, `must be a whole number from ${min} to ${max}`).transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
const int = (def: number, min: number, max: number) => wholeNumber(min, max).default(def)
const bool = (def: boolean) => z.enum(['true', 'false'], 'must be true or false').transform((v) => v === 'true').default(def)
const id = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/u, 'must be 1-128 characters of [A-Za-z0-9._:-]')

const EnvSchema = z.object({
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(3000, 0, 65535),
  METRICS_PORT: wholeNumber(1, 65535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'must be a pino level').default('info'),
  JITSI_BASE_URL: z.string({ error: 'is required' }),
  ALLOW_INSECURE_JITSI_URL: bool(false),
  JWT_APP_ID: z.string({ error: 'is required' }).regex(/^[A-Za-z0-9._:-]{1,128}$/u, 'must be 1-128 characters of [A-Za-z0-9._:-]'),
  JWT_SIGN_TYPE: z.enum(['HS256', 'RS256'], 'must be HS256 or RS256').default('HS256'),
  JWT_PRIVATE_KEY_FILE: z.string().optional(),
  JWT_KID: z.string().regex(/^[A-Za-z0-9._:/-]{1,128}$/u, 'must be 1-128 characters of [A-Za-z0-9._:/-]').optional(),
  JWT_ISSUER: id.optional(),
  JWT_AUDIENCE: id.optional(),
  JWT_SUBJECT: z.string().regex(XMPP_DOMAIN_PATTERN, 'must be a lowercase XMPP domain').optional(),
  JWT_INCLUDE_EMAIL: bool(false),
  ROOM_NAME_PREFIX: z.string().regex(ROOM_PREFIX_PATTERN, 'must be up to 16 of [a-z0-9-], starting with a letter or digit').default(''),
  SERVICE_AUDIENCE: id.default('jitsi-token-service'),
  CLIENTS_FILE: z.string().optional(),
  CLIENTS_JSON: z.string().optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//u, 'must be a redis:// or rediss:// URL').optional(),
  TOKEN_IN_URL: z.enum(['query', 'fragment'], 'must be query or fragment').default('query'),
  POLICY_FILE: z.string().optional(),
  NBF_SKEW_SECONDS: int(30, 0, 300),
  LATE_GRACE_MINUTES: int(30, 0, 240),
  MAX_VISIT_MINUTES: int(720, 1, 1440),
  MAX_ADVANCE_DAYS: int(90, 0, 366),
  DEFAULT_TOKEN_TTL_SECONDS: int(3600, 60, 86400),
  RATE_LIMIT_WINDOW_SECONDS: int(60, 1, 3600),
  RATE_LIMIT_IP_MAX: int(600, 1, 1_000_000),
  RATE_LIMIT_AUTH_FAIL_MAX: int(20, 1, 1_000_000),
  RATE_LIMIT_CLIENT_MAX: int(1200, 1, 10_000_000),
  TRUST_PROXY: z.string().regex(/^[0-9a-fA-F.:/, ]+$|^(loopback|linklocal|uniquelocal)$/u, 'must be a list of IPs/CIDRs or loopback').optional(),
  SHUTDOWN_DELAY_MS: int(5000, 0, 25000),
  MAX_EVENT_LOOP_DELAY_MS: int(200, 10, 10000),
  MAX_EVENT_LOOP_UTILIZATION: z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/u, 'must be a number from 0.5 to 1').transform(Number)
    .pipe(z.number().min(0.5, 'must be at least 0.5').max(1)).default(0.98)
})

const SECRET_VARS = ['JWT_APP_SECRET', 'ROOM_NAME_SECRET', 'AUDIT_HASH_SECRET'] as const

/**
 * Parses an environment into a Config or throws ConfigError naming every bad variable.
 * Pure apart from reading the files the environment points at.
 */
export function parseConfig (rawEnv: NodeJS.ProcessEnv): Readonly<Config> {
  // An empty variable means "unset" (compose files and charts render empty strings).
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== undefined && v !== '')) as NodeJS.ProcessEnv
  const problems: string[] = []
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${String(issue.path[0])} ${issue.message}`)
  }

  const secrets: Partial<Record<typeof SECRET_VARS[number], string>> = {}
  for (const name of SECRET_VARS) {
    const r = resolveSecretVar(env, name)
    if (r.error !== undefined) { problems.push(r.error); continue }
    if (r.value === undefined) {
      if (name !== 'JWT_APP_SECRET' || (env.JWT_SIGN_TYPE ?? 'HS256') === 'HS256') problems.push(`${name} is required`)
      continue
    }
    const problem = secretProblem(r.value)
    if (problem !== undefined) problems.push(`${name} ${problem}`)
    else secrets[name] = r.value
  }
  const distinct = [secrets.JWT_APP_SECRET, secrets.ROOM_NAME_SECRET, secrets.AUDIT_HASH_SECRET].filter((s) => s !== undefined)
  if (new Set(distinct).size !== distinct.length) problems.push('JWT_APP_SECRET, ROOM_NAME_SECRET and AUDIT_HASH_SECRET must all differ')

  const e = parsed.success ? parsed.data : undefined
  const jitsiBaseUrl = checkJitsiUrl(env.JITSI_BASE_URL, env.ALLOW_INSECURE_JITSI_URL === 'true', problems)
  const clients = readClients(env, problems, distinct)
  const privateKey = e?.JWT_SIGN_TYPE === 'RS256' ? readPrivateKey(env, problems) : undefined
  if (e?.JWT_SIGN_TYPE === 'RS256' && e.JWT_KID === undefined) problems.push('JWT_KID is required when JWT_SIGN_TYPE=RS256')
  let policy: Policy | undefined
  try {
    policy = loadPolicy(env.POLICY_FILE)
  } catch (err) {
    problems.push(`POLICY_FILE ${(err as Error).message}`)
  }

  if (problems.length > 0 || e === undefined || jitsiBaseUrl === undefined || clients === undefined || policy === undefined) {
    throw new ConfigError(problems)
  }
  const appId = e.JWT_APP_ID
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    logLevel: e.LOG_LEVEL,
    jitsiBaseUrl,
    jwt: Object.freeze({
      appId,
      signType: e.JWT_SIGN_TYPE,
      appSecret: e.JWT_SIGN_TYPE === 'HS256' ? secrets.JWT_APP_SECRET : undefined,
      privateKey,
      kid: e.JWT_SIGN_TYPE === 'RS256' ? e.JWT_KID : undefined,
      issuer: e.JWT_ISSUER ?? appId,
      audience: e.JWT_AUDIENCE ?? 'jitsi',
      subject: e.JWT_SUBJECT ?? 'meet.jitsi',
      includeEmail: e.JWT_INCLUDE_EMAIL
    }),
    roomNameSecret: secrets.ROOM_NAME_SECRET as string,
    roomNamePrefix: e.ROOM_NAME_PREFIX,
    auditHashSecret: secrets.AUDIT_HASH_SECRET as string,
    serviceAudience: e.SERVICE_AUDIENCE,
    clients,
    redisUrl: e.REDIS_URL,
    tokenInUrl: e.TOKEN_IN_URL,
    policy,
    nbfSkewSeconds: e.NBF_SKEW_SECONDS,
    lateGraceMinutes: e.LATE_GRACE_MINUTES,
    maxVisitMinutes: e.MAX_VISIT_MINUTES,
    maxAdvanceDays: e.MAX_ADVANCE_DAYS,
    defaultTokenTtlSeconds: e.DEFAULT_TOKEN_TTL_SECONDS,
    rateLimit: Object.freeze({
      windowMs: e.RATE_LIMIT_WINDOW_SECONDS * 1000,
      ipMax: e.RATE_LIMIT_IP_MAX,
      authFailMax: e.RATE_LIMIT_AUTH_FAIL_MAX,
      clientMax: e.RATE_LIMIT_CLIENT_MAX
    }),
    trustProxy: e.TRUST_PROXY ?? false,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    maxEventLoopUtilization: e.MAX_EVENT_LOOP_UTILIZATION
  })
}

function checkJitsiUrl (value: string | undefined, allowInsecure: boolean, problems: string[]): string | undefined {
  if (value === undefined) return undefined // reported by the schema as required
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push('JITSI_BASE_URL is not a URL')
    return undefined
  }
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) {
    problems.push('JITSI_BASE_URL must use https: (http: only with ALLOW_INSECURE_JITSI_URL=true)')
    return undefined
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    problems.push('JITSI_BASE_URL must not carry credentials, a query or a fragment')
    return undefined
  }
  return url.origin + url.pathname.replace(/\/+$/u, '')
}

function readClients (env: NodeJS.ProcessEnv, problems: string[], otherSecrets: readonly string[]): ReadonlyMap<string, Client> | undefined {
  if (env.CLIENTS_FILE !== undefined && env.CLIENTS_JSON !== undefined) {
    problems.push('CLIENTS_FILE and CLIENTS_JSON are both set; set exactly one')
    return undefined
  }
  const name = env.CLIENTS_FILE !== undefined ? 'CLIENTS_FILE' : 'CLIENTS_JSON'
  let json = env.CLIENTS_JSON
  if (env.CLIENTS_FILE !== undefined) {
    try {
      json = readFileSync(env.CLIENTS_FILE, 'utf8')
    } catch {
      problems.push('CLIENTS_FILE cannot be read')
      return undefined
    }
  }
  if (json === undefined) {
    problems.push('CLIENTS_FILE or CLIENTS_JSON is required')
    return undefined
  }
  try {
    const loaded = loadClients(json)
    // One secret per direction: an EMR key must never be able to mint Jitsi tokens or room names.
    if (loaded.hmacSecrets.some((s) => otherSecrets.includes(s))) {
      problems.push(`${name} reuses JWT_APP_SECRET, ROOM_NAME_SECRET or AUDIT_HASH_SECRET as a client secret`)
      return undefined
    }
    return loaded.byId
  } catch (err) {
    problems.push(`${name} ${(err as Error).message}`)
    return undefined
  }
}

function readPrivateKey (env: NodeJS.ProcessEnv, problems: string[]): KeyObject | undefined {
  if (env.JWT_PRIVATE_KEY_FILE === undefined) {
    problems.push('JWT_PRIVATE_KEY_FILE is required when JWT_SIGN_TYPE=RS256')
    return undefined
  }
  try {
    const key = createPrivateKey(readFileSync(env.JWT_PRIVATE_KEY_FILE, 'utf8'))
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      problems.push('JWT_PRIVATE_KEY_FILE must hold an RSA private key of at least 2048 bits')
      return undefined
    }
    return key
  } catch {
    problems.push('JWT_PRIVATE_KEY_FILE cannot be read as a PEM private key')
    return undefined
  }
}
