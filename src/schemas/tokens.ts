// POST /v1/tokens request and response (contract §4).
import { z } from 'zod'
import { AppointmentIdSchema, ConsentSchema, DateTimeSchema, DurationSchema, ParticipantResultSchema, ParticipantSchema, TenantSchema } from './common.js'

export const TokenRequestSchema = z.strictObject({
  appointmentId: AppointmentIdSchema.optional(),
  room: z.string().regex(/^[a-z0-9][a-z0-9-]{2,62}$/u).optional().describe('A caller-chosen room, only for clients with allowCustomRooms; used as given, without ROOM_NAME_PREFIX.'),
  tenant: TenantSchema.optional(),
  participant: ParticipantSchema,
  start: DateTimeSchema.optional(),
  end: DateTimeSchema.optional(),
  durationMinutes: DurationSchema.optional(),
  consent: ConsentSchema.optional()
}).refine((v) => (v.appointmentId === undefined) !== (v.room === undefined), { message: 'give exactly one of appointmentId or room', params: { rule: 'appointment_xor_room' } })
  .refine((v) => v.start !== undefined ? (v.end === undefined) !== (v.durationMinutes === undefined) : v.end === undefined && v.durationMinutes === undefined,
    { message: 'with start give exactly one of end or durationMinutes; without start give neither', params: { rule: 'schedule' } })
  .describe('One participant of one room.')
export type TokenRequest = z.infer<typeof TokenRequestSchema>

export const TokenResponseSchema = ParticipantResultSchema.extend({
  room: z.string(),
  tenant: z.string().optional(),
  roomUrl: z.string()
})
export type TokenResponse = z.infer<typeof TokenResponseSchema>
