// POST /v1/tokens: one participant → one token and join link (contract §4).
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { IssuingDeps } from '../../app.js'
import { TokenRequestSchema, TokenResponseSchema } from '../../schemas/tokens.js'
import { issueToken } from '../../services/issuance.js'
import { ISSUING_ERRORS } from './errors.js'

export default async function tokensRoutes (app: FastifyInstance, deps: IssuingDeps) {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/tokens', {
    schema: {
      tags: ['issuing'],
      summary: 'Create one participant token and join link',
      operationId: 'createToken',
      security: [{ emrAssertion: [] }],
      body: TokenRequestSchema,
      response: { 200: TokenResponseSchema, ...ISSUING_ERRORS }
    }
  }, async (request) => {
    const issued = await issueToken(request.body, deps.caller(request).client, deps.context())
    deps.onIssued(request, issued)
    return issued.body
  })
}
