// /v1: everything here requires an EMR assertion (hook added by encapsulation, not by URL matching).
import type { FastifyInstance } from 'fastify'
import type { IssuingDeps } from '../../app.js'
import tokensRoutes from './tokens.js'
import visitsRoutes from './visits.js'

export default async function v1Routes (app: FastifyInstance, deps: IssuingDeps) {
  app.addHook('preValidation', app.emrAuth)
  await app.register(visitsRoutes, deps)
  await app.register(tokensRoutes, deps)
}
