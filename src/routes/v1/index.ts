// /v1: everything here requires an EMR assertion (hooks added by encapsulation, not by URL matching).
import type { FastifyInstance } from 'fastify'
import type { IssuingDeps } from '../../app.js'
import inspectRoutes from './inspect.js'
import tokensRoutes from './tokens.js'
import visitsRoutes from './visits.js'

export default async function v1Routes (app: FastifyInstance, deps: IssuingDeps) {
  // An IP that keeps failing authentication is refused before we spend a signature check on it.
  app.addHook('onRequest', async (request) => { await app.limits.checkAuthFailures(request) })
  app.addHook('preValidation', async (request, reply) => {
    await app.emrAuth(request, reply)
    deps.onAuthenticated(request)
    await app.limits.checkClient(request)
  })
  app.addHook('onError', async (request, _reply, error) => { await deps.onDenied(request, error) })
  await app.register(visitsRoutes, deps)
  await app.register(tokensRoutes, deps)
  await app.register(inspectRoutes, deps)
}
