// Field schemas shared by the issuing routes (contract §3). Strict: unknown fields are 400.
import { z } from 'zod'
import { ROLES } from '../config/policy.js'
import { TENANT_PATTERN } from '../lib/patterns.js'

/** Characters that can disguise or reorder a name on screen; ZWNJ/ZWJ stay (Persian, Indic names). */
const FORBIDDEN_IN_NAMES = /[\p{Cc}\p{Cs}\p{Co}\u2028\u2029\u200B\u2060\uFEFF\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C<>]/u
export const MAX_NAME_CODE_POINTS = 64

export const DisplayNameSchema = z.string().max(1024)
  // NFC first, so "e" + U+0301 and "é" are the same name and the same length.
  .overwrite((s) => s.normalize('NFC'))
  .refine((s) => s.trim().length > 0, { message: 'must not be empty or blank', params: { rule: 'not_blank' } })
  .refine((s) => [...s].length <= MAX_NAME_CODE_POINTS, { message: `at most ${MAX_NAME_CODE_POINTS} code points`, params: { rule: 'max_code_points' } })
  .refine((s) => !FORBIDDEN_IN_NAMES.test(s), { message: 'contains a control, bidi, zero-width or <> character', params: { rule: 'forbidden_character' } })
  .describe('Name shown in the meeting. NFC-normalised; 1-64 code points; no control, bidi-override, zero-width (except ZWNJ/ZWJ) or < > characters.')

export const RoleSchema = z.enum(ROLES).describe('Participant role; decides moderator rights, lobby bypass, early join and features.')
export const TenantSchema = z.string().regex(TENANT_PATTERN).describe('Jitsi tenant (the first URL path segment, a DNS label); must be allowed for the calling client.')
export const AppointmentIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/u).describe('The EMR appointment id (e.g. OpenEMR pc_eid). Hashed into the room name, never sent to Jitsi.')
export const DateTimeSchema = z.iso.datetime({ offset: true }).describe('RFC 3339 date-time with Z or an offset.')
export const DurationSchema = z.number().int().min(1).max(1440).describe('Visit length in minutes (at most MAX_VISIT_MINUTES).')

export const ParticipantSchema = z.strictObject({
  role: RoleSchema,
  id: z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/u).describe('Stable, opaque EMR user id; becomes context.user.id.'),
  displayName: DisplayNameSchema,
  email: z.email().max(254).optional().describe('Put into the token only when JWT_INCLUDE_EMAIL=true.')
})

export const ConsentSchema = z.strictObject({
  recording: z.string().regex(/^[\x20-\x7E]{1,128}$/u).optional().describe('Reference to the signed recording consent; enables recording/transcription for providers.')
}).describe('Consent references recorded by the EMR.')

export const ParticipantResultSchema = z.object({
  role: RoleSchema,
  id: z.string(),
  displayName: z.string(),
  moderator: z.boolean(),
  lobbyBypass: z.boolean(),
  notBefore: z.string().describe('Token nbf as RFC 3339 UTC.'),
  expiresAt: z.string().describe('Token exp as RFC 3339 UTC.'),
  token: z.string().describe('The signed Jitsi JWT.'),
  joinUrl: z.string().describe('Room URL with the token (?jwt= or #jwt=%22…%22 per TOKEN_IN_URL). A bearer credential: never log it.')
})

/** "exactly one of end or durationMinutes" as a zod check with a stable rule name. */
export const exactlyOneOfEndOrDuration = (v: { end?: string, durationMinutes?: number }): boolean =>
  (v.end === undefined) !== (v.durationMinutes === undefined)
