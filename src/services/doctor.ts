// The token doctor: decodes a Jitsi token (or a join URL carrying one) and checks it against
// a Jitsi deployment's configuration, line by line. Shared by the CLI (`doctor`) and
// POST /v1/tokens/inspect, so it has no Fastify and no I/O; the caller supplies clock and keys.
// The report never contains the token or the join URL: both are bearer credentials.
import { createSecretKey, type KeyObject } from 'node:crypto'
import { compactVerify } from 'jose'
import { CLAIM_RULES, HEADER_RULES, type Check, type JoinUrlInfo, type RuleContext, type Verdict } from './doctor-rules.js'
import { resolveJitsiSettings, type JitsiSettings } from './jitsi-env.js'

export type { Check, Verdict } from './doctor-rules.js'

export type VerifyKey =
  /** HMAC secret: its UTF-8 bytes are the key, as Prosody's app_secret */
  | { secret: string, label?: string }
  | { publicKey: KeyObject, label?: string }

export interface DoctorInput {
  token?: string
  joinUrl?: string
  /** a docker-jitsi-meet `.env` as key/value pairs; absent = docker defaults with JWT on */
  jitsiEnv?: Readonly<Record<string, string>>
  nowS: number
  /** the appointment time to check the token window at */
  atS?: number
  key?: VerifyKey
}

export interface DoctorReport {
  ok: boolean
  summary: Record<Verdict, number>
  room?: string
  tenant?: string
  checks: Check[]
}

/** The characters the web client strips from a room path segment (uri.ts _ROOM_EXCLUDE_PATTERN). */
const ROOM_EXCLUDE = /[:?#[\]@!$&'()*+,;=></"]/gu

/** jitsi-meet getBackendSafeRoomName: decode, NFKC, lowercase, encode, lowercase. */
export function backendSafeRoomName (segment: string): string {
  let room = segment
  try {
    room = decodeURIComponent(room)
  } catch {
    // the web client keeps the raw segment when it cannot decode it
  }
  room = room.replace(ROOM_EXCLUDE, '').normalize('NFKC').toLowerCase()
  return encodeURIComponent(room).toLowerCase()
}

interface ParsedUrl { token?: string, info: JoinUrlInfo, checks: Check[] }

/** Finds the token the way the web client does: hash first (JSON-parsed), then the query. */
export function parseJoinUrl (joinUrl: string): ParsedUrl {
  let url: URL
  try {
    url = new URL(joinUrl)
  } catch {
    return { info: { hasUppercase: false }, checks: [{ id: 'url.token', verdict: 'fail', message: 'the join URL is not a URL' }] }
  }
  const segments = url.pathname.split('/').filter((s) => s !== '')
  const last = segments.at(-1)
  const info: JoinUrlInfo = {
    room: last === undefined ? undefined : backendSafeRoomName(last),
    tenant: segments.length >= 2 ? (segments.at(-2) as string).toLowerCase() : undefined,
    hasUppercase: last !== undefined && /[A-Z]/u.test(last)
  }
  const checks: Check[] = []
  if (last === undefined) checks.push({ id: 'url.room', verdict: 'fail', message: 'the join URL has no room in its path' })
  else if (segments.length > 2) checks.push({ id: 'url.room', verdict: 'warn', message: `the path has ${segments.length} segments; docker-jitsi-meet serves /<room> and /<tenant>/<room>` })

  const hashJwt = rawParam(url.hash.slice(1), 'jwt')
  const queryJwt = url.searchParams.get('jwt') ?? undefined
  if (hashJwt !== undefined) {
    const quoted = jsonString(hashJwt)
    if (quoted !== undefined) {
      checks.push({ id: 'url.token', verdict: 'pass', message: '#jwt=%22…%22: the web client JSON-parses it (and proxies never log it)' })
      return { token: quoted, info, checks }
    }
    checks.push({ id: 'url.token', verdict: 'fail', message: 'bare #jwt=<token> is ignored by the web client, which JSON-parses hash values: write #jwt=%22<token>%22' })
    return { token: queryJwt ?? safeDecode(hashJwt), info, checks }
  }
  if (queryJwt !== undefined) {
    checks.push({ id: 'url.token', verdict: 'pass', message: '?jwt=<token> works (it appears in proxy access logs; TOKEN_IN_URL=fragment avoids that)' })
    return { token: queryJwt, info, checks }
  }
  checks.push({ id: 'url.token', verdict: 'fail', message: 'the join URL carries no jwt parameter' })
  return { info, checks }
}

const rawParam = (params: string, name: string): string | undefined => {
  for (const part of params.split('&')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq) === name) return part.slice(eq + 1)
  }
  return undefined
}
const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
const jsonString = (raw: string): string | undefined => {
  try {
    const v: unknown = JSON.parse(decodeURIComponent(raw))
    return typeof v === 'string' ? v : undefined
  } catch {
    return undefined
  }
}

interface Decoded { header: Record<string, unknown>, claims: Record<string, unknown> }

export function decodeToken (token: string): Decoded | undefined {
  const parts = token.trim().split('.')
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/u.test(p))) return undefined
  try {
    const header: unknown = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8'))
    const claims: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'))
    const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
    return isObj(header) && isObj(claims) ? { header, claims } : undefined
  } catch {
    return undefined
  }
}

async function signatureCheck (token: string, header: Record<string, unknown>, jitsi: JitsiSettings, given: VerifyKey | undefined): Promise<Check> {
  const id = 'signature'
  const alg = typeof header.alg === 'string' ? header.alg : ''
  if (jitsi.appSecret !== undefined && !jitsi.appSecretWritten) {
    return { id, verdict: 'fail', message: 'JWT_APP_SECRET is a bool-like word (0/false/…): docker never writes it as app_secret' }
  }
  if (jitsi.appSecret !== undefined && /["\\]/u.test(jitsi.appSecret)) {
    return { id, verdict: 'fail', message: 'JWT_APP_SECRET contains " or \\, which breaks the Lua string docker writes it into' }
  }
  const fromEnv = jitsi.appSecret !== undefined && alg.startsWith('HS') ? { secret: jitsi.appSecret, label: 'JWT_APP_SECRET from the Jitsi environment' } : undefined
  const key = given ?? fromEnv
  if (key === undefined) {
    return { id, verdict: 'warn', message: jitsi.keyServer !== undefined ? 'not verified: the key lives on JWT_ASAP_KEYSERVER' : 'not verified: give the secret (or public key) to check it' }
  }
  const label = key.label ?? ('secret' in key ? 'the given secret' : 'the given public key')
  const keyObject = 'secret' in key ? createSecretKey(Buffer.from(key.secret, 'utf8')) : key.publicKey
  try {
    await compactVerify(token.trim(), keyObject, { algorithms: [alg] })
    return { id, verdict: 'pass', message: `verified with ${label}` }
  } catch {
    return { id, verdict: 'fail', message: `does not verify with ${label} (other secret or key, or a modified token)` }
  }
}

/** Runs every rule; `ok` is false when any line fails. */
export async function inspectToken (input: DoctorInput): Promise<DoctorReport> {
  const checks: Check[] = []
  let token = input.token
  let url: JoinUrlInfo | undefined
  if (input.joinUrl !== undefined) {
    const parsed = parseJoinUrl(input.joinUrl)
    checks.push(...parsed.checks)
    token = parsed.token
    url = parsed.info
  }
  const decoded = token === undefined ? undefined : decodeToken(token)
  if (token === undefined || decoded === undefined) {
    if (token !== undefined) checks.push({ id: 'token.format', verdict: 'fail', message: 'not a compact JWS with JSON header and claims' })
    return report(checks, url)
  }
  checks.push({ id: 'token.format', verdict: 'pass', message: 'compact JWS, header and claims are JSON objects' })
  const jitsi = resolveJitsiSettings(input.jitsiEnv)
  const ctx: RuleContext = { ...decoded, url, jitsi, nowS: input.nowS, atS: input.atS }
  const run = (rule: (typeof HEADER_RULES)[number]) => {
    const out = rule(ctx)
    if (out !== undefined) checks.push(...(Array.isArray(out) ? out : [out]))
  }
  HEADER_RULES.forEach(run)
  checks.push(await signatureCheck(token, decoded.header, jitsi, input.key))
  CLAIM_RULES.forEach(run)
  const room = typeof decoded.claims.room === 'string' ? decoded.claims.room : undefined
  return report(checks, url, room)
}

function report (checks: Check[], url: JoinUrlInfo | undefined, room?: string): DoctorReport {
  const summary: Record<Verdict, number> = { pass: 0, warn: 0, fail: 0 }
  for (const c of checks) summary[c.verdict]++
  return { ok: summary.fail === 0, summary, ...(room !== undefined ? { room } : {}), ...(url?.tenant !== undefined ? { tenant: url.tenant } : {}), checks }
}

/** A plain-text checklist for terminals: one line per rule, then the verdict. */
export function formatReport (r: DoctorReport): string {
  const mark: Record<Verdict, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' }
  const width = Math.max(...r.checks.map((c) => c.id.length), 10)
  const lines = r.checks.map((c) => `${mark[c.verdict]}  ${c.id.padEnd(width)}  ${c.message}`)
  lines.push('', `${r.ok ? 'OK' : 'NOT OK'}: ${r.summary.fail} fail, ${r.summary.warn} warn, ${r.summary.pass} pass`)
  return lines.join('\n')
}
