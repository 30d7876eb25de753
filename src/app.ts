// buildApp(config): the whole service as a Fastify instance, plugins then routes, never listening.
import { randomBytes, randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { VerifiedCaller } from './auth/assertion.js'
import { MemoryReplayStore, type ReplayStore } from './auth/replay-store.js'
import type { Config } from './config.js'
import { ApiError } from './errors.js'
import { createLogger } from './logger.js'
import emrAuth from './plugins/emr-auth.js'
import errorHandler from './plugins/error-handler.js'
import jsonBody, { BODY_LIMIT_BYTES } from './plugins/json-body.js'
import openapi from './plugins/openapi.js'
import requestLog from './plugins/request-log.js'
import securityHeaders from './plugins/security-headers.js'
import healthRoutes from './routes/health.js'
import openapiJsonRoute from './routes/openapi-json.js'
import v1Routes from './routes/v1/index.js'
import type { IssueContext, Issued } from './services/issuance.js'
import { createSigner } from './services/signer.js'

export interface BuildOptions {
  logger?: FastifyBaseLogger
  /** injectable clock (ms) so tests can freeze time */
  nowMs?: () => number
  replayStore?: ReplayStore
  newJti?: () => string
}

/** What the issuing routes need, passed explicitly instead of through decorators. */
export interface IssuingDeps {
  caller (request: FastifyRequest): VerifiedCaller
  context (): IssueContext
  onIssued (request: FastifyRequest, issued: Issued<unknown>): void
}

export const newJti = (): string => randomBytes(16).toString('base64url')

export async function buildApp (config: Readonly<Config>, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const nowMs = opts.nowMs ?? Date.now
  const replayStore = opts.replayStore ?? new MemoryReplayStore(nowMs)
  const signer = createSigner(config.jwt)

  const app = Fastify({
    loggerInstance: opts.logger ?? createLogger(config.logLevel),
    // request logs come from plugins/request-log.ts with an allow-list of fields
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // attack catalogue (d) R2: without connectionsCheckingInterval Node checks timeouts only every 30 s
    requestTimeout: 10_000,
    keepAliveTimeout: 72_000,
    maxRequestsPerSocket: 1000,
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 1000 } as object,
    routerOptions: { maxParamLength: 128 },
    return503OnClosing: true
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  await app.register(securityHeaders)
  await app.register(errorHandler)
  await app.register(requestLog)
  await app.register(jsonBody)
  await app.register(openapi)
  await app.register(emrAuth, { verifier: { clients: config.clients, audience: config.serviceAudience, replayStore }, nowMs })

  const deps: IssuingDeps = {
    caller: (request) => {
      if (request.caller === null) throw new ApiError('internal')
      return request.caller
    },
    context: () => ({ config, signer, now: Math.floor(nowMs() / 1000), newJti: opts.newJti ?? newJti }),
    onIssued: () => {}
  }
  await app.register(healthRoutes)
  await app.register(openapiJsonRoute)
  await app.register(v1Routes, deps)
  app.addHook('onClose', async () => { await replayStore.close() })
  return app
}
