// POST /v1/visits: one appointment → one room and a join link per participant (contract §3).
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { IssuingDeps } from '../../app.js'
import { VisitRequestSchema, VisitResponseSchema } from '../../schemas/visits.js'
import { issueVisit } from '../../services/issuance.js'
import { ISSUING_ERRORS } from './errors.js'

export default async function visitsRoutes (app: FastifyInstance, deps: IssuingDeps) {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/visits', {
    schema: {
      tags: ['issuing'],
      summary: 'Create join links for every participant of an appointment',
      operationId: 'createVisit',
      security: [{ emrAssertion: [] }],
      body: VisitRequestSchema,
      response: { 200: VisitResponseSchema, ...ISSUING_ERRORS }
    }
  }, async (request) => {
    const issued = await issueVisit(request.body, deps.caller(request).client, deps.context())
    deps.onIssued(request, issued)
    return issued.body
  })
}
