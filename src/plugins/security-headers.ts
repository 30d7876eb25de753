// Headers every response carries: join links are bearer credentials, nothing may cache or sniff them.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export default fp(async function securityHeaders (app: FastifyInstance) {
  // callback-style hook: no promise and microtask hop per response (it runs on every request)
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('cache-control', 'no-store')
    reply.header('x-content-type-options', 'nosniff')
    reply.header('x-request-id', request.id)
    done(null, payload)
  })
}, { name: 'security-headers' })
