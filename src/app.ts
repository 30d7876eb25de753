// buildApp(config): the whole service as a Fastify instance, plugins then routes, never listening.
import { randomUUID } from 'node:crypto'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify'
import { validatorCompiler } from 'fastify-type-provider-zod'
import type { Redis } from 'ioredis'
import type { VerifiedCaller } from './auth/assertion.js'
import { RedisReplayStore } from './auth/redis-replay-store.js'
import { MemoryReplayStore, type ReplayStore } from './auth/replay-store.js'
import { createAuditLog } from './audit.js'
import type { Config } from './config.js'
import { ApiError, AuthError } from './errors.js'
import { randomId } from './lib/random-id.js'
import { createLogger } from './logger.js'
import { createMetrics } from './metrics.js'
import emrAuth from './plugins/emr-auth.js'
import errorHandler, { toApiError } from './plugins/error-handler.js'
import jsonBody, { BODY_LIMIT_BYTES } from './plugins/json-body.js'
import metricsPlugin from './plugins/metrics.js'
import openapi from './plugins/openapi.js'
import rateLimits, { EXEMPT_ROUTES } from './plugins/rate-limit.js'
import requestLog from './plugins/request-log.js'
import securityHeaders from './plugins/security-headers.js'
import underPressure from './plugins/under-pressure.js'
import { clientErrorHandler } from './plugins/client-error.js'
import { Readiness } from './readiness.js'
import { RedisHealth, createRedis } from './redis.js'
import healthRoutes from './routes/health.js'
import openapiJsonRoute from './routes/openapi-json.js'
import v1Routes from './routes/v1/index.js'
import type { IssueContext, Issued } from './services/issuance.js'
import { createSigner, type Signer } from './services/signer.js'

declare module 'fastify' {
  interface FastifyInstance { readiness: Readiness }
}

export interface BuildOptions {
  logger?: FastifyBaseLogger
  /** injectable clock (ms) so tests can freeze time */
  nowMs?: () => number
  replayStore?: ReplayStore
  /** shared connection for the replay store and rate limits; created from REDIS_URL when absent */
  redis?: Redis
  newJti?: () => string
  /** tests only: shorter server timeouts for the slow-client rows */
  timeouts?: { requestMs?: number, headersMs?: number, keepAliveMs?: number }
}

/** What the issuing routes need, passed explicitly instead of through decorators. */
export interface IssuingDeps {
  caller (request: FastifyRequest): VerifiedCaller
  context (): IssueContext
  onAuthenticated (request: FastifyRequest): void
  onIssued (request: FastifyRequest, issued: Issued<unknown>): void
  onDenied (request: FastifyRequest, error: Error): Promise<void>
}

// 16 random bytes, base64url; pooled CSPRNG (src/lib/random-id.ts, docs/performance.md)
export const newJti = (): string => randomId(16)

export async function buildApp (config: Readonly<Config>, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const nowMs = opts.nowMs ?? Date.now
  const ownsRedis = opts.redis === undefined && config.redisUrl !== undefined
  const redis = opts.redis ?? (config.redisUrl !== undefined ? await createRedis(config.redisUrl) : undefined)
  redis?.on('error', () => { /* surfaced through readiness and 503s; ioredis reconnects by itself */ })
  const redisHealth = redis !== undefined ? new RedisHealth(redis) : undefined
  const replayStore = opts.replayStore ?? (redis !== undefined ? new RedisReplayStore(redis) : new MemoryReplayStore(nowMs))
  const signer = createSigner(config.jwt)
  const metrics = createMetrics()
  const timeouts = { requestMs: 10_000, headersMs: 10_000, keepAliveMs: 72_000, ...opts.timeouts }

  const app = Fastify({
    loggerInstance: opts.logger ?? createLogger(config.logLevel),
    // request logs come from plugins/request-log.ts with an allow-list of fields
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustProxy,
    // attack catalogue (d) R2: without connectionsCheckingInterval Node checks timeouts only every 30 s
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    maxRequestsPerSocket: 1000,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: 1000 } as object,
    routerOptions: { maxParamLength: 128 },
    return503OnClosing: true,
    clientErrorHandler
  })
  app.setValidatorCompiler(validatorCompiler)
  // Responses are built by typed pure functions (src/services), so they are written with plain
  // JSON.stringify: fastify-type-provider-zod's serializer re-validated every body with zod first
  // (~3 µs of a visit, docs/performance.md). The response schemas still describe the contract in
  // openapi.yaml, and the route tests compare whole bodies exactly, extra keys included.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))

  const readiness = new Readiness({
    config: async () => {},
    signing_key: selfTest(signer),
    // With Redis, the latch's PING is the replay store's PING (same connection): probe once, which
    // also refreshes the latch; otherwise ask the store.
    replay_store: redisHealth !== undefined && opts.replayStore === undefined
      ? async () => { if (!(await redisHealth.probe())) throw new Error('redis down') }
      : async () => { await replayStore.ping() }
  })
  app.decorate('readiness', readiness)
  const audit = createAuditLog(app.log, config.auditHashSecret)

  // third-party and cross-cutting plugins first, then our own, then routes (style.md)
  await app.register(securityHeaders)
  if (redisHealth !== undefined) {
    // Fail closed and fast while Redis is known to be down: nothing is issued without the replay check.
    app.addHook('onRequest', async (request) => {
      if (!redisHealth.isHealthy && !EXEMPT_ROUTES.has(request.routeOptions.url ?? '')) {
        throw new ApiError('unavailable', { detail: 'replay store unavailable', headers: { 'retry-after': '1' } })
      }
    })
  }
  await app.register(metricsPlugin, { metrics, exposeRoute: config.metricsPort === undefined })
  await app.register(underPressure, { maxEventLoopDelayMs: config.maxEventLoopDelayMs, maxEventLoopUtilization: config.maxEventLoopUtilization })
  await app.register(rateLimits, { limits: config.rateLimit, redis, metrics })
  await app.register(errorHandler)
  await app.register(requestLog)
  await app.register(jsonBody)
  await app.register(openapi)
  await app.register(emrAuth, { verifier: { clients: config.clients, audience: config.serviceAudience, replayStore }, nowMs })

  const auditRequest = (request: FastifyRequest, err?: AuthError) => ({
    requestId: request.id,
    clientId: request.caller?.client.id ?? err?.iss,
    emrSub: request.caller?.sub
  })
  const deps: IssuingDeps = {
    caller: (request) => {
      if (request.caller === null) throw new ApiError('internal')
      return request.caller
    },
    context: () => ({ config, signer, now: Math.floor(nowMs() / 1000), newJti: opts.newJti ?? newJti }),
    onAuthenticated: (request) => {
      const caller = request.caller as VerifiedCaller
      metrics.assertionAge.observe({ client: caller.client.id }, Math.floor(nowMs() / 1000) - caller.iat)
    },
    onIssued: (request, issued) => {
      if (request.routeOptions.url === '/v1/visits') metrics.visitsIssued.inc()
      for (const token of issued.tokens) {
        metrics.tokensIssued.inc({ role: token.role })
        metrics.tokenWindow.observe(token.exp - token.nbf)
        if (token.mixedScriptName) metrics.mixedScriptNames.inc()
        audit.issued(auditRequest(request), issued, token)
      }
    },
    onDenied: async (request, error) => {
      const apiError = toApiError(error)
      if (apiError instanceof AuthError) {
        const client = apiError.iss !== undefined && config.clients.has(apiError.iss) ? apiError.iss : 'unknown'
        metrics.authFailures.inc({ reason: apiError.reason, client })
        if (apiError.reason === 'replay') metrics.replayRejections.inc()
        await app.limits.recordAuthFailure(request)
      }
      audit.denied(auditRequest(request, apiError instanceof AuthError ? apiError : undefined), apiError.statusCode, apiError instanceof AuthError ? apiError.reason : apiError.code)
    }
  }
  await app.register(healthRoutes, { readiness })
  await app.register(openapiJsonRoute)
  await app.register(v1Routes, deps)
  app.addHook('onClose', async () => {
    await replayStore.close()
    redisHealth?.stop()
    if (ownsRedis) redis?.disconnect()
  })
  return app
}

/** The signing key counts as loaded once it has produced one signature. */
function selfTest (signer: Signer): () => Promise<void> {
  const now = Math.floor(Date.now() / 1000)
  const probe = signer.sign({
    iss: 'self-test', aud: 'self-test', sub: 'self-test', room: 'self-test', iat: now, nbf: now, exp: now + 1, jti: 'self-test', moderator: false,
    context: { user: { id: 'self-test', name: 'self-test', moderator: false, affiliation: 'member', lobby_bypass: false }, features: {} as never }
  })
  probe.catch(() => undefined)
  return async () => { await probe }
}
