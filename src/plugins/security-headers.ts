// Headers every response carries: join links are bearer credentials, nothing may cache or sniff them.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export default fp(async function securityHeaders (app: FastifyInstance) {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('cache-control', 'no-store')
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-request-id', request.id)
    return payload
  })
}, { name: 'security-headers' })
