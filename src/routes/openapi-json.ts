// GET /openapi.json: the document generated from the running routes (same content as openapi.yaml).
import type { FastifyInstance } from 'fastify'

export default async function openapiJsonRoute (app: FastifyInstance) {
  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type('application/json').send(JSON.stringify(app.swagger()))
  })
}
