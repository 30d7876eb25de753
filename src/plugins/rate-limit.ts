// Rate limits (attack catalogue E-55/56, R10): per IP before authentication, a stricter per-IP budget
// for failed authentications, and per client after authentication. Probes and metrics are exempt.
// With REDIS_URL the counters are shared by all replicas; otherwise each replica counts alone.
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { ApiError } from '../errors.js'
import type { Metrics } from '../metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    limits: {
      /** 429 when this IP has spent its failed-authentication budget (peek only). */
      checkAuthFailures (request: FastifyRequest): Promise<void>
      recordAuthFailure (request: FastifyRequest): Promise<void>
      /** per authenticated client id */
      checkClient (request: FastifyRequest): Promise<void>
    }
  }
}

export const EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

export interface RateLimitOptions { limits: Config['rateLimit'], redis?: Redis, metrics: Metrics }

const tooMany = (ttlMs: number) => new ApiError('rate_limited', { headers: { 'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))) } })

export default fp<RateLimitOptions>(async function rateLimits (app: FastifyInstance, opts) {
  const { limits, metrics } = opts
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: limits.ipMax,
    timeWindow: limits.windowMs,
    ...(opts.redis !== undefined ? { redis: opts.redis, nameSpace: 'jts:rl:' } : {}),
    // Redis trouble must not turn into 500s; the replay check already fails closed with 503.
    skipOnError: true,
    allowList: (request) => EXEMPT_ROUTES.has(request.routeOptions.url ?? ''),
    onExceeded: () => { metrics.rateLimitHits.inc({ scope: 'ip' }) },
    errorResponseBuilder: (_request, context) => tooMany(context.ttl)
  })

  const authFailures = app.createRateLimit({ max: limits.authFailMax, timeWindow: limits.windowMs, keyGenerator: (r) => `fail:${r.ip}` })
  const perClient = app.createRateLimit({ max: limits.clientMax, timeWindow: limits.windowMs, keyGenerator: (r) => `client:${r.caller?.client.id ?? ''}` })

  app.decorate('limits', {
    async checkAuthFailures (request: FastifyRequest) {
      // a peek counts failures so far: N failures spend the budget, the next request is refused
      const status = await authFailures(request, { increment: false })
      if (!status.isAllowed && status.remaining <= 0) {
        metrics.rateLimitHits.inc({ scope: 'auth_failures' })
        throw tooMany(status.ttl)
      }
    },
    async recordAuthFailure (request: FastifyRequest) {
      await authFailures(request).catch(() => undefined)
    },
    async checkClient (request: FastifyRequest) {
      const status = await perClient(request)
      if (!status.isAllowed && status.isExceeded) {
        metrics.rateLimitHits.inc({ scope: 'client' })
        throw tooMany(status.ttl)
      }
    }
  })
}, { name: 'rate-limits' })
