// Load shedding (R13): when the event loop lags or the heap nears its limit, answer 503 + Retry-After
// at once instead of queueing work that will time out anyway. Probes and metrics stay answerable.
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { getHeapStatistics } from 'node:v8'
import { ApiError } from '../errors.js'
import { sendProblem } from './error-handler.js'
import { EXEMPT_ROUTES } from './rate-limit.js'

export const RETRY_AFTER_SECONDS = 5

export default fp<{ maxEventLoopDelayMs: number, maxEventLoopUtilization: number }>(async function pressure (app: FastifyInstance, opts) {
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    maxEventLoopUtilization: opts.maxEventLoopUtilization,
    maxHeapUsedBytes: Math.floor(getHeapStatistics().heap_size_limit * 0.85),
    retryAfter: RETRY_AFTER_SECONDS,
    pressureHandler: (request, reply) => {
      // returning without sending lets the request through (probes must answer while loaded)
      if (EXEMPT_ROUTES.has(request.routeOptions.url ?? '')) return
      sendProblem(request, reply, new ApiError('unavailable', { detail: 'overloaded', headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } }))
    }
  })
}, { name: 'under-pressure' })
