// The token doctor's rules, one function per checklist line (jitsi-token-rules.md §2–§7).
// Each rule reads the decoded token, the join URL (when known) and the Jitsi settings and
// returns a verdict with a message an operator can act on. Pure: no clock, no I/O.
import { FEATURE_KEYS } from '../config/policy.js'
import type { JitsiSettings } from './jitsi-env.js'
import { toIso } from './time-window.js'

export type Verdict = 'pass' | 'warn' | 'fail'
export interface Check { id: string, verdict: Verdict, message: string }

export interface JoinUrlInfo {
  /** lowercased tenant path segment, when the URL has one */
  tenant?: string
  /** the room as Prosody sees it (getBackendSafeRoomName of the last path segment) */
  room?: string
  hasUppercase: boolean
}

export interface RuleContext {
  header: Record<string, unknown>
  claims: Record<string, unknown>
  url?: JoinUrlInfo
  jitsi: JitsiSettings
  nowS: number
  atS?: number
}

const check = (id: string, verdict: Verdict, message: string): Check => ({ id, verdict, message })
/** Values from the token are shown shortened and JSON-quoted, so odd characters stay visible. */
export const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 70 ? `${s.slice(0, 67)}...` : s
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const asciiLower = (s: string): string => s.replace(/[A-Z]/gu, (c) => c.toLowerCase())
const OWNER_AFFILIATIONS = new Set(['owner', 'moderator', 'teacher'])

export function headerTyp ({ header }: RuleContext): Check {
  if (header.typ === 'JWT') return check('header.typ', 'pass', 'typ is "JWT"')
  return check('header.typ', 'fail', `typ is ${show(header.typ)}; Prosody rejects a token whose typ is not exactly "JWT"`)
}

export function headerAlg ({ header, jitsi }: RuleContext): Check {
  const source = jitsi.given ? 'JWT_SIGN_TYPE' : 'JWT_SIGN_TYPE (docker default)'
  if (!/^(HS|RS)(256|384|512)$/u.test(jitsi.signType)) return check('header.alg', 'fail', `${source}=${jitsi.signType} is not an algorithm Prosody supports (HS256/384/512, RS256/384/512)`)
  if (header.alg === jitsi.signType) return check('header.alg', 'pass', `alg ${jitsi.signType} matches ${source}`)
  return check('header.alg', 'fail', `alg is ${show(header.alg)} but Prosody accepts exactly one algorithm: ${source}=${jitsi.signType}`)
}

/** Key-server mode only: Prosody fetches <keyserver>/<sha256(kid)>.pem, so kid is required. */
export function headerKid ({ header, jitsi }: RuleContext): Check | undefined {
  if (jitsi.keyServer === undefined) return undefined
  if (typeof header.kid === 'string' && header.kid !== '') return check('header.kid', 'pass', 'kid present for JWT_ASAP_KEYSERVER lookup')
  return check('header.kid', 'fail', 'JWT_ASAP_KEYSERVER is set: the header needs a kid to find the public key')
}

export function claimIss ({ claims, jitsi }: RuleContext): Check {
  const iss = claims.iss
  if (typeof iss !== 'string' || iss === '') return check('claims.iss', 'fail', 'iss is missing; Prosody requires it')
  const accepted = jitsi.acceptedIssuers ?? (jitsi.appId !== undefined ? [jitsi.appId] : undefined)
  const source = jitsi.acceptedIssuers !== undefined ? 'JWT_ACCEPTED_ISSUERS' : 'JWT_APP_ID (JWT_ACCEPTED_ISSUERS unset)'
  if (accepted === undefined) return check('claims.iss', 'warn', `iss ${show(iss)} not checked: JWT_APP_ID unknown (give the Jitsi .env)`)
  if (accepted.includes('*') || accepted.includes(iss)) return check('claims.iss', 'pass', `iss ${show(iss)} accepted by ${source}`)
  return check('claims.iss', 'fail', `iss ${show(iss)} is not accepted: ${source} = ${accepted.join(',')}`)
}

export function claimAud ({ claims, jitsi }: RuleContext): Check {
  const aud = claims.aud
  const accepted = jitsi.acceptedAudiences
  const any = accepted === undefined || accepted.includes('*')
  if (aud === undefined) return check('claims.aud', 'fail', 'aud is missing; Prosody requires it even when any audience is accepted')
  if (Array.isArray(aud)) {
    if (any) return check('claims.aud', 'warn', 'aud is an array: accepted only because any audience is; send a single string')
    return check('claims.aud', 'fail', 'aud is an array; Prosody compares aud as one value, so it never matches JWT_ACCEPTED_AUDIENCES')
  }
  if (typeof aud !== 'string') return check('claims.aud', 'fail', `aud is ${show(aud)}; it must be a string`)
  if (any) return check('claims.aud', 'pass', `aud ${show(aud)} (JWT_ACCEPTED_AUDIENCES ${accepted === undefined ? 'unset' : '*'}: any audience)`)
  if (accepted.includes(aud)) return check('claims.aud', 'pass', `aud ${show(aud)} is in JWT_ACCEPTED_AUDIENCES`)
  return check('claims.aud', 'fail', `aud ${show(aud)} is not in JWT_ACCEPTED_AUDIENCES = ${accepted.join(',')}`)
}

export function claimSub ({ claims, jitsi, url }: RuleContext): Check {
  const sub = claims.sub
  if (typeof sub !== 'string' || sub === '') return check('claims.sub', 'fail', 'sub is missing; Prosody requires it')
  if (sub === '*') return check('claims.sub', 'warn', 'sub is "*": the token is valid for every tenant')
  const lower = asciiLower(sub)
  if (!jitsi.domainVerification) {
    const note = url?.tenant !== undefined && url.tenant !== lower ? `; it differs from the URL tenant ${show(url.tenant)}` : ''
    return check('claims.sub', 'pass', `sub ${show(sub)} is not checked with JWT_ENABLE_DOMAIN_VERIFICATION off${note}`)
  }
  if (url !== undefined) {
    const expected = url.tenant ?? jitsi.xmppDomain
    const what = url.tenant !== undefined ? 'the URL tenant' : 'XMPP_DOMAIN (no tenant in the URL)'
    if (lower === expected) return check('claims.sub', 'pass', `sub ${show(sub)} matches ${what}`)
    return check('claims.sub', 'fail', `sub ${show(sub)} must equal ${what} ${show(expected)} with domain verification on ("Room and token mismatched")`)
  }
  if (lower === jitsi.xmppDomain) return check('claims.sub', 'pass', `sub ${show(sub)} matches XMPP_DOMAIN (rooms without a tenant)`)
  return check('claims.sub', 'warn', `sub ${show(sub)} must equal the tenant of the room URL; give the join URL to check it`)
}

/** Characters a Prosody room node can contain once the web client has encoded and lowercased it. */
const NODE_CHARS = /^(?:[a-z0-9._~-]|%[0-9a-f]{2})+$/u

export function claimRoom ({ claims, url }: RuleContext): Check {
  const room = claims.room
  if (room === undefined) return check('claims.room', 'fail', 'room is missing; Prosody requires it')
  if (typeof room !== 'string' || room === '') return check('claims.room', 'fail', `room is ${show(room)}; it must be a room name`)
  if (room === '*') return check('claims.room', 'warn', 'room is "*": the token opens every room')
  const lower = asciiLower(room)
  if (!NODE_CHARS.test(lower)) {
    return check('claims.room', 'fail', `room ${show(room)} can never match: the web client percent-encodes spaces and non-ASCII and strips :?#[]@!$&'()*+,;=></" from the URL room, and Prosody lowercases ASCII only`)
  }
  const caseNote = lower !== room || url?.hasUppercase === true ? ' (upper-case ASCII is harmless: both sides are lowercased)' : ''
  if (url?.room === undefined) return check('claims.room', 'pass', `room ${show(room)} is lowercase-safe ASCII${caseNote}`)
  if (lower === url.room) return check('claims.room', 'pass', `room claim matches the URL room${caseNote}`)
  return check('claims.room', 'fail', `room ${show(room)} does not match the URL room ${show(url.room)} (Prosody: room-mismatch / not-allowed)`)
}

function numericTime (claims: Record<string, unknown>, name: 'nbf' | 'exp'): Check {
  const v = claims[name]
  const id = `claims.${name}`
  if (v === undefined) {
    return name === 'exp'
      ? check(id, 'warn', 'exp is missing: Prosody accepts it and the token never expires')
      : check(id, 'pass', 'nbf is absent (valid from issue)')
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return check(id, 'fail', `${name} is ${show(v)}; Prosody needs a JSON number of seconds`)
  if (v > 1e11) return check(id, 'fail', `${name} ${v} looks like milliseconds; Jitsi expects seconds`)
  return check(id, 'pass', `${name} ${toIso(Math.floor(v))}`)
}

export const claimNbf = ({ claims }: RuleContext): Check => numericTime(claims, 'nbf')
export const claimExp = ({ claims }: RuleContext): Check => numericTime(claims, 'exp')

/** Prosody: rejected when now < nbf or now >= exp, with no leeway at all. */
function windowAt (claims: Record<string, unknown>, t: number): 'early' | 'expired' | 'ok' {
  if (typeof claims.exp === 'number' && t >= claims.exp) return 'expired'
  if (typeof claims.nbf === 'number' && t < claims.nbf) return 'early'
  return 'ok'
}

export function timeNow ({ claims, nowS, atS }: RuleContext): Check {
  const state = windowAt(claims, nowS)
  const exp = typeof claims.exp === 'number' ? ` until ${toIso(Math.floor(claims.exp))}` : ''
  if (state === 'expired') return check('time.now', 'fail', `expired at ${toIso(Math.floor(claims.exp as number))}: Prosody refuses it now`)
  if (state === 'early') {
    const opens = toIso(Math.floor(claims.nbf as number))
    // A token for a later appointment is expected to be early; the --at check decides then.
    return atS !== undefined
      ? check('time.now', 'warn', `not valid yet: opens at ${opens}`)
      : check('time.now', 'fail', `not valid yet: opens at ${opens} (Prosody allows no clock skew)`)
  }
  return check('time.now', 'pass', `valid now${exp}`)
}

export function timeAt ({ claims, atS }: RuleContext): Check | undefined {
  if (atS === undefined) return undefined
  const state = windowAt(claims, atS)
  if (state === 'ok') return check('time.at', 'pass', `valid at ${toIso(atS)}`)
  return check('time.at', 'fail', `${state === 'early' ? 'not valid yet' : 'already expired'} at ${toIso(atS)}`)
}

const userOf = (claims: Record<string, unknown>): Record<string, unknown> | undefined => {
  const context = claims.context
  return isObject(context) && isObject(context.user) ? context.user : undefined
}

/** What mod_token_affiliation makes of the token: owner or member. */
export const tokenOwner = (claims: Record<string, unknown>): boolean => {
  const user = userOf(claims)
  if (user === undefined) return false
  return user.moderator === true || user.moderator === 'true' || (typeof user.affiliation === 'string' && OWNER_AFFILIATIONS.has(user.affiliation))
}

export function userModerator ({ claims }: RuleContext): Check {
  const user = userOf(claims)
  if (user === undefined) return check('user.moderator', 'warn', 'no context.user: token_affiliation makes this user a member and no display name is set')
  const mod = user.moderator
  if (mod === undefined) return check('user.moderator', 'warn', 'context.user.moderator is absent: token_affiliation treats the user as a member')
  if (typeof mod !== 'boolean') {
    return check('user.moderator', 'fail', `context.user.moderator is ${show(mod)}; send a boolean (token_affiliation reads only true or "true"; "false", "True" and 1 all mean member)`)
  }
  if (!mod && typeof user.affiliation === 'string' && OWNER_AFFILIATIONS.has(user.affiliation)) {
    return check('user.moderator', 'fail', `context.user.affiliation ${show(user.affiliation)} makes this user owner although moderator is false`)
  }
  if (claims.moderator !== undefined && claims.moderator !== mod) {
    return check('user.moderator', 'warn', 'top-level moderator differs from context.user.moderator; token_affiliation reads only context.user')
  }
  return check('user.moderator', 'pass', `context.user.moderator is ${String(mod)}`)
}

export function affiliationModule ({ claims, jitsi }: RuleContext): Check {
  const role = tokenOwner(claims) ? 'owner (moderator)' : 'member'
  if (jitsi.mucModules.some((m) => m === 'token_affiliation' || m === 'token_affiliation_legacy')) {
    return check('jitsi.token_affiliation', 'pass', `token_affiliation is loaded: this user becomes ${role}`)
  }
  return check('jitsi.token_affiliation', 'warn', 'XMPP_MUC_MODULES lacks token_affiliation: the moderator claim is not read; jicofo alone decides who moderates')
}

export function everyoneModerator ({ claims, jitsi }: RuleContext): Check {
  const id = 'jitsi.everyone-moderator'
  if (tokenOwner(claims)) return check(id, 'pass', 'this user is meant to moderate')
  if (jitsi.jicofoAuth) {
    return check(id, 'warn', 'JICOFO_ENABLE_AUTH (defaults to ENABLE_AUTH) is on: jicofo makes every token user owner, so this non-moderator WILL moderate; set JICOFO_ENABLE_AUTH=0 and ENABLE_AUTO_OWNER=0')
  }
  if (jitsi.autoOwner) return check(id, 'warn', 'ENABLE_AUTO_OWNER is on (jicofo default): whoever joins first moderates, this user included; set ENABLE_AUTO_OWNER=0')
  return check(id, 'pass', 'jicofo auth and auto-owner are off: only the token decides')
}

export function userLobbyBypass ({ claims }: RuleContext): Check | undefined {
  const user = userOf(claims)
  if (user === undefined) return undefined
  const v = user.lobby_bypass
  if (v === undefined) return check('user.lobby_bypass', tokenOwner(claims) ? 'warn' : 'pass', tokenOwner(claims) ? 'lobby_bypass absent: a moderator without it waits in the lobby when the lobby is on' : 'lobby_bypass absent: waits in the lobby when it is on')
  if (typeof v !== 'boolean') return check('user.lobby_bypass', 'fail', `lobby_bypass is ${show(v)}; token_lobby_bypass accepts boolean true only (the string "true" does not work)`)
  return check('user.lobby_bypass', 'pass', `lobby_bypass is ${String(v)}`)
}

export function lobbyModule ({ claims, jitsi }: RuleContext): Check {
  const id = 'jitsi.token_lobby_bypass'
  if (userOf(claims)?.lobby_bypass !== true) return check(id, 'pass', 'no lobby bypass requested')
  if (jitsi.mucModules.includes('token_lobby_bypass')) return check(id, 'pass', 'token_lobby_bypass is loaded: this user skips the lobby')
  return check(id, 'warn', 'lobby_bypass is true but XMPP_MUC_MODULES lacks token_lobby_bypass: it is ignored')
}

export function features ({ claims }: RuleContext): Check {
  const context = isObject(claims.context) ? claims.context : undefined
  const f = context?.features
  if (f === undefined) return check('context.features', 'warn', 'features absent: Prosody falls back to the moderator role and the web client to its own defaults; send every key')
  if (!isObject(f)) return check('context.features', 'fail', 'context.features must be an object')
  const missing = FEATURE_KEYS.filter((k) => !(k in f))
  if (missing.length > 0) return check('context.features', 'fail', `missing ${missing.join(', ')}: once features exist Prosody denies a missing key`)
  const odd = Object.entries(f).filter(([, v]) => v !== 'true' && v !== 'false')
  if (odd.some(([, v]) => typeof v !== 'boolean')) return check('context.features', 'fail', `${odd.map(([k]) => k).join(', ')}: value is not "true"/"false", so it counts as denied`)
  if (odd.length > 0) return check('context.features', 'warn', `${odd.map(([k]) => k).join(', ')}: booleans work but the contract sends the strings "true"/"false"`)
  return check('context.features', 'pass', `all ${FEATURE_KEYS.length} feature keys present as "true"/"false"`)
}

export function jitsiConfig ({ jitsi }: RuleContext): Check[] {
  if (!jitsi.given) return [check('jitsi.config', 'warn', 'no Jitsi environment given: checked against docker-jitsi-meet defaults with ENABLE_AUTH=1 AUTH_TYPE=jwt')]
  const out: Check[] = []
  if (!jitsi.tokenAuth) out.push(check('jitsi.auth', 'fail', 'ENABLE_AUTH=1 and AUTH_TYPE=jwt are both needed, else Jitsi ignores tokens'))
  else if (jitsi.appId === undefined) out.push(check('jitsi.auth', 'fail', 'JWT_APP_ID is empty: the Prosody token modules do not load'))
  else out.push(check('jitsi.auth', 'pass', 'token authentication is on'))
  if (jitsi.allowEmpty || jitsi.guests) out.push(check('jitsi.anonymous', 'warn', `${jitsi.allowEmpty ? 'JWT_ALLOW_EMPTY' : 'ENABLE_GUESTS'} is on: people without a token can join too`))
  else out.push(check('jitsi.anonymous', 'pass', 'a token is required to join'))
  return out
}

type Rule = (ctx: RuleContext) => Check | Check[] | undefined

/** Rules in checklist order; doctor.ts puts the (async) signature check between the two lists. */
export const HEADER_RULES: readonly Rule[] = [jitsiConfig, headerTyp, headerAlg, headerKid]
export const CLAIM_RULES: readonly Rule[] = [
  claimIss, claimAud, claimSub, claimRoom, claimNbf, claimExp, timeNow, timeAt,
  userModerator, affiliationModule, everyoneModerator, userLobbyBypass, lobbyModule, features
]
