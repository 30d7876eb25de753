// GET /healthz: liveness only. It never checks dependencies (a Redis outage must not restart pods).
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'

export const HealthSchema = z.object({ status: z.literal('ok') })

export default async function healthRoutes (app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness probe', operationId: 'getHealth', response: { 200: HealthSchema } }
  }, async () => ({ status: 'ok' as const }))
}
