// RED metrics for every request, and /metrics on the main port unless METRICS_PORT moves it.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { statusClass, type Metrics } from '../metrics.js'

declare module 'fastify' {
  interface FastifyInstance { metrics: Metrics }
}

export interface MetricsPluginOptions { metrics: Metrics, exposeRoute: boolean }

export default fp<MetricsPluginOptions>(async function metricsPlugin (app: FastifyInstance, opts) {
  const { metrics } = opts
  app.decorate('metrics', metrics)
  // callback-style hook: no promise and microtask hop per response
  app.addHook('onResponse', (request, reply, done) => {
    // The route template, never the raw URL: unmatched paths share one series.
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_class: statusClass(reply.statusCode) }
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000)
    metrics.httpRequests.inc(labels)
    done()
  })
  if (opts.exposeRoute) registerMetricsRoute(app, metrics)
}, { name: 'metrics' })

export function registerMetricsRoute (app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
}
