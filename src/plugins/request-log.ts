// One completion line per request: method, route template, status, duration, request id. Nothing else:
// no URL (queries can carry PHI), no headers (the assertion), no bodies (names, links).
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export default fp(async function requestLog (app: FastifyInstance) {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({
      method: request.method,
      route: request.routeOptions.url ?? '(unmatched)',
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100
    }, 'request completed')
    done()
  })
}, { name: 'request-log' })
