// Probes. /healthz is liveness only and never checks dependencies (a Redis outage must not restart
// pods); /readyz is readiness: config, signing key, replay store, not draining.
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ApiError } from '../errors.js'
import { sendProblem } from '../plugins/error-handler.js'
import type { Readiness } from '../readiness.js'
import { ProblemSchema } from '../schemas/problem.js'

export const HealthSchema = z.object({ status: z.literal('ok') })
const CheckState = z.enum(['ok', 'fail'])
export const ReadySchema = z.object({
  status: z.literal('ready'),
  checks: z.object({ config: CheckState, signing_key: CheckState, replay_store: CheckState, draining: CheckState })
})

export default async function healthRoutes (app: FastifyInstance, opts: { readiness: Readiness }) {
  const typed = app.withTypeProvider<ZodTypeProvider>()
  typed.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness probe', operationId: 'getHealth', security: [], response: { 200: HealthSchema } }
  }, async () => ({ status: 'ok' as const }))

  typed.get('/readyz', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness probe',
      description: '503 (problem+json, Retry-After) names the failing checks in `failing`.',
      operationId: 'getReadiness',
      security: [],
      response: { 200: ReadySchema, 503: ProblemSchema }
    }
  }, async (request, reply) => {
    const report = await opts.readiness.report()
    if (!report.ready) {
      return sendProblem(request, reply, new ApiError('unavailable', {
        detail: `not ready: ${report.failing.join(', ')}`,
        failing: report.failing,
        headers: { 'retry-after': '1' }
      }))
    }
    return { status: 'ready' as const, checks: report.checks }
  })
}
