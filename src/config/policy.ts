// Role templates (contract §6): what each participant role may do in the Jitsi room.
import { readFileSync } from 'node:fs'
import { z } from 'zod'

export const ROLES = ['provider', 'patient', 'caregiver', 'interpreter', 'observer'] as const
export type Role = typeof ROLES[number]

/**
 * Every feature key is always sent: once `context.features` exists Prosody denies a
 * missing key, so leaving one out silently disables it (jitsi-token-rules §7).
 */
export const FEATURE_KEYS = [
  'screen-sharing', 'send-groupchat', 'recording', 'transcription', 'livestreaming',
  'outbound-call', 'sip-outbound-call', 'inbound-call', 'sip-inbound-call', 'create-polls',
  'file-upload', 'lobby', 'moderation', 'list-visitors'
] as const
export type FeatureKey = typeof FEATURE_KEYS[number]

/** Features that record the visit: granted only with documented consent, only to providers. */
export const CONSENT_FEATURES = ['recording', 'transcription'] as const satisfies readonly FeatureKey[]

export interface RoleTemplate {
  moderator: boolean
  lobbyBypass: boolean
  earlyJoinMinutes: number
  /** Features set to "true" for this role. */
  features: readonly FeatureKey[]
  /** Features set to "true" only when the request carries `consent.recording`. */
  consentFeatures: readonly FeatureKey[]
}
export type Policy = Readonly<Record<Role, Readonly<RoleTemplate>>>

export const DEFAULT_POLICY: Policy = Object.freeze({
  provider: { moderator: true, lobbyBypass: true, earlyJoinMinutes: 15, features: ['screen-sharing', 'send-groupchat', 'create-polls', 'lobby', 'moderation'], consentFeatures: ['recording', 'transcription'] },
  patient: { moderator: false, lobbyBypass: false, earlyJoinMinutes: 10, features: ['screen-sharing', 'send-groupchat'], consentFeatures: [] },
  caregiver: { moderator: false, lobbyBypass: false, earlyJoinMinutes: 10, features: ['screen-sharing', 'send-groupchat'], consentFeatures: [] },
  interpreter: { moderator: false, lobbyBypass: true, earlyJoinMinutes: 15, features: ['send-groupchat'], consentFeatures: [] },
  observer: { moderator: false, lobbyBypass: false, earlyJoinMinutes: 10, features: [], consentFeatures: [] }
})

const FeatureKeySchema = z.enum(FEATURE_KEYS)
const RoleOverrideSchema = z.strictObject({
  moderator: z.boolean().optional(),
  lobbyBypass: z.boolean().optional(),
  earlyJoinMinutes: z.number().int().min(0).max(240).optional(),
  features: z.array(FeatureKeySchema).refine((f) => !f.some((k) => (CONSENT_FEATURES as readonly string[]).includes(k)), 'recording/transcription may only be granted through consentFeatures').optional(),
  consentFeatures: z.array(z.enum(CONSENT_FEATURES)).optional()
})
export const PolicyFileSchema = z.strictObject(Object.fromEntries(ROLES.map((r) => [r, RoleOverrideSchema.optional()])) as Record<Role, z.ZodOptional<typeof RoleOverrideSchema>>)
  .refine((p) => ROLES.every((r) => r === 'provider' || (p[r]?.consentFeatures?.length ?? 0) === 0), 'consentFeatures are allowed for the provider role only')

/** Merges a POLICY_FILE over the defaults; throws a message that names paths, never values. */
export function loadPolicy (path: string | undefined): Policy {
  if (path === undefined || path === '') return DEFAULT_POLICY
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    throw new Error('cannot be read as JSON')
  }
  const parsed = PolicyFileSchema.safeParse(raw)
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '))
  }
  const merged = Object.fromEntries(ROLES.map((r) => [r, Object.freeze({ ...DEFAULT_POLICY[r], ...stripUndefined(parsed.data[r] ?? {}) })]))
  return Object.freeze(merged) as Policy
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
