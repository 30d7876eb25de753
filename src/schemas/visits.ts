// POST /v1/visits request and response (contract §3).
import { z } from 'zod'
import { AppointmentIdSchema, ConsentSchema, DateTimeSchema, DurationSchema, ParticipantResultSchema, ParticipantSchema, TenantSchema, exactlyOneOfEndOrDuration } from './common.js'

export const VisitRequestSchema = z.strictObject({
  appointmentId: AppointmentIdSchema,
  tenant: TenantSchema.optional(),
  start: DateTimeSchema,
  end: DateTimeSchema.optional(),
  durationMinutes: DurationSchema.optional(),
  participants: z.array(ParticipantSchema).min(1).max(20),
  consent: ConsentSchema.optional()
}).refine(exactlyOneOfEndOrDuration, { message: 'give exactly one of end or durationMinutes', params: { rule: 'end_xor_duration' } })
  .describe('One appointment and its participants.')
export type VisitRequest = z.infer<typeof VisitRequestSchema>

export const VisitResponseSchema = z.object({
  room: z.string().describe('Opaque room name, the same for every call with this (tenant, appointmentId).'),
  tenant: z.string().optional(),
  roomUrl: z.string(),
  start: z.string(),
  end: z.string(),
  participants: z.array(ParticipantResultSchema).describe('In request order.')
})
export type VisitResponse = z.infer<typeof VisitResponseSchema>
