// The Jitsi token's claims (contract §6, jitsi-token-rules §3–§7). Pure: no clock, no I/O, no Fastify.
import { FEATURE_KEYS, type FeatureKey, type Role, type RoleTemplate } from '../config/policy.js'
import type { TokenWindow } from './time-window.js'

export interface ClaimsConfig {
  issuer: string
  audience: string
  /** `sub` for visits without a tenant: the XMPP domain (docker-jitsi-meet: meet.jitsi) */
  subject: string
  includeEmail: boolean
}

export interface ParticipantInput {
  role: Role
  id: string
  displayName: string
  email?: string
}

export interface JitsiUser {
  id: string
  name: string
  email?: string
  moderator: boolean
  affiliation: 'owner' | 'member'
  lobby_bypass: boolean
}

export interface JitsiClaims {
  iss: string
  aud: string
  sub: string
  room: string
  iat: number
  nbf: number
  exp: number
  jti: string
  moderator: boolean
  context: {
    user: JitsiUser
    features: Record<FeatureKey, 'true' | 'false'>
  }
}

export interface ClaimsInput {
  participant: ParticipantInput
  template: RoleTemplate
  room: string
  tenant?: string
  window: TokenWindow
  /** true when the request carries a recording consent reference */
  consent: boolean
  jti: string
}

type Features = Readonly<Record<FeatureKey, 'true' | 'false'>>

/** One frozen features object per role template, with and without the consent features (built once). */
const featuresCache = new WeakMap<RoleTemplate, { plain: Features, consented: Features }>()

function featuresFor (template: RoleTemplate, withConsentFeatures: boolean): Features {
  let cached = featuresCache.get(template)
  if (cached === undefined) {
    const build = (extra: readonly FeatureKey[]): Features => {
      const granted = new Set<FeatureKey>([...template.features, ...extra])
      return Object.freeze(Object.fromEntries(FEATURE_KEYS.map((k) => [k, granted.has(k) ? 'true' : 'false'])) as Record<FeatureKey, 'true' | 'false'>)
    }
    cached = { plain: build([]), consented: build(template.consentFeatures) }
    featuresCache.set(template, cached)
  }
  return withConsentFeatures ? cached.consented : cached.plain
}

/** Builds the claims for one participant. Every feature key is explicit ("true"/"false"). */
export function buildJitsiClaims (input: ClaimsInput, cfg: ClaimsConfig): JitsiClaims {
  const { participant, template, window } = input
  // Recording and transcription need documented consent, and only the provider role carries them.
  const features = featuresFor(template, input.consent && participant.role === 'provider') as Record<FeatureKey, 'true' | 'false'>
  const user: JitsiUser = {
    id: participant.id,
    name: participant.displayName,
    ...(cfg.includeEmail && participant.email !== undefined ? { email: participant.email } : {}),
    // token_affiliation reads only context.user; booleans, because 'false' as a string is a trap.
    moderator: template.moderator,
    affiliation: template.moderator ? 'owner' : 'member',
    // mod_token_lobby_bypass accepts boolean true only.
    lobby_bypass: template.lobbyBypass
  }
  return {
    iss: cfg.issuer,
    aud: cfg.audience,
    sub: input.tenant ?? cfg.subject,
    room: input.room,
    iat: window.iat,
    nbf: window.nbf,
    exp: window.exp,
    jti: input.jti,
    // read only by the third-party token_moderation plugin; kept equal to context.user.moderator
    moderator: template.moderator,
    context: { user, features }
  }
}
