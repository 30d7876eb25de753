// Visit and token issuance: authorised request in, signed tokens and join links out. No Fastify here.
import type { Client } from '../config/clients.js'
import type { Config } from '../config.js'
import { isMixedScript } from '../lib/mixed-script.js'
import type { Role } from '../config/policy.js'
import type { TokenRequest, TokenResponse } from '../schemas/tokens.js'
import type { VisitRequest, VisitResponse } from '../schemas/visits.js'
import { authorizeCustomRoom, authorizeRoles, authorizeTenant } from './authorize.js'
import { buildJitsiClaims, type ClaimsConfig, type ParticipantInput } from './claims.js'
import { joinUrl, roomUrl } from './join-url.js'
import { roomName } from './room-name.js'
import type { Signer } from './signer.js'
import { adHocTokenWindow, resolveVisitTimes, toIso, visitTokenWindow, type TokenWindow, type VisitTimes } from './time-window.js'

export interface IssueContext {
  config: Readonly<Config>
  signer: Signer
  /** seconds since the epoch */
  now: number
  newJti: () => string
}

/** What was issued, for the audit trail and metrics (no names, no tokens). */
export interface IssuedToken { role: Role, participantId: string, jti: string, nbf: number, exp: number, mixedScriptName: boolean }
export interface Issued<T> { body: T, room: string, tenant?: string, tokens: IssuedToken[] }

export async function issueVisit (req: VisitRequest, client: Client, ctx: IssueContext): Promise<Issued<VisitResponse>> {
  authorizeTenant(client, req.tenant)
  authorizeRoles(client, req.participants.map((p) => p.role))
  const times = resolveVisitTimes(req, ctx.config, ctx.now)
  const room = roomName(ctx.config.roomNameSecret, ctx.config.roomNamePrefix, req.tenant ?? '', req.appointmentId)
  const url = roomUrl(ctx.config.jitsiBaseUrl, room, req.tenant)
  const consent = req.consent?.recording !== undefined
  // All tokens or none: one failed signature fails the whole response.
  const results = await Promise.all(req.participants.map((p) => issueOne(p, room, url, req.tenant, times, consent, ctx)))
  return {
    body: { room, tenant: req.tenant, roomUrl: url, start: toIso(times.start), end: toIso(times.end), participants: results.map((r) => r.result) },
    room,
    tenant: req.tenant,
    tokens: results.map((r) => r.issued)
  }
}

export async function issueToken (req: TokenRequest, client: Client, ctx: IssueContext): Promise<Issued<TokenResponse>> {
  authorizeTenant(client, req.tenant)
  authorizeRoles(client, [req.participant.role])
  if (req.room !== undefined) authorizeCustomRoom(client)
  const times = req.start !== undefined ? resolveVisitTimes({ ...req, start: req.start }, ctx.config, ctx.now) : undefined
  const room = req.room ?? roomName(ctx.config.roomNameSecret, ctx.config.roomNamePrefix, req.tenant ?? '', req.appointmentId as string)
  const url = roomUrl(ctx.config.jitsiBaseUrl, room, req.tenant)
  const { result, issued } = await issueOne(req.participant, room, url, req.tenant, times, req.consent?.recording !== undefined, ctx)
  return { body: { ...result, room, tenant: req.tenant, roomUrl: url }, room, tenant: req.tenant, tokens: [issued] }
}

async function issueOne (p: ParticipantInput, room: string, url: string, tenant: string | undefined, times: VisitTimes | undefined, consent: boolean, ctx: IssueContext) {
  const template = ctx.config.policy[p.role]
  const window: TokenWindow = times !== undefined ? visitTokenWindow(times, template, ctx.config, ctx.now) : adHocTokenWindow(ctx.config, ctx.now)
  const claims = buildJitsiClaims({ participant: p, template, room, tenant, window, consent, jti: ctx.newJti() }, claimsConfig(ctx.config))
  const token = await ctx.signer.sign(claims)
  return {
    result: {
      role: p.role,
      id: p.id,
      displayName: p.displayName,
      moderator: claims.context.user.moderator,
      lobbyBypass: claims.context.user.lobby_bypass,
      notBefore: toIso(window.nbf),
      expiresAt: toIso(window.exp),
      token,
      joinUrl: joinUrl(url, token, ctx.config.tokenInUrl)
    },
    issued: { role: p.role, participantId: p.id, jti: claims.jti, nbf: window.nbf, exp: window.exp, mixedScriptName: isMixedScript(p.displayName) }
  }
}

function claimsConfig (config: Readonly<Config>): ClaimsConfig {
  return { issuer: config.jwt.issuer, audience: config.jwt.audience, subject: config.jwt.subject, includeEmail: config.jwt.includeEmail }
}
