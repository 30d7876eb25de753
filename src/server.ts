// Process entry: parse config (exit 1 before listening if bad), build the app, listen, and on SIGTERM
// drain like podinfo: readiness false → wait SHUTDOWN_DELAY_MS for endpoints to update → close().
import { setTimeout as sleep } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, parseConfig, type Config } from './config.js'
import { configSummary } from './config/summary.js'
import { createLogger } from './logger.js'
import { registerMetricsRoute } from './plugins/metrics.js'

let config: Readonly<Config>
try {
  config = parseConfig(process.env)
} catch (err) {
  // The message names variables only; values never reach the terminal or the log shipper.
  console.error(err instanceof ConfigError ? err.message : 'Invalid configuration')
  process.exit(1)
}

const app = await buildApp(config, { logger: await processLogger(config.logLevel) })
// the same report `jitsi-token-service check-config` prints: what this process will do, no secrets
app.log.info({ config: configSummary(config) }, 'configuration loaded')
const metricsServer = config.metricsPort !== undefined ? Fastify({ logger: false }) : undefined
if (metricsServer !== undefined) registerMetricsRoute(metricsServer, app.metrics)

// Kubernetes grace is 30 s: delay (5 s) + close (< 20 s) stays inside it.
closeWithGrace({ delay: config.shutdownDelayMs + 20_000 }, async ({ signal, err }) => {
  app.readiness.startDraining()
  if (err !== undefined) {
    app.log.error({ err }, 'fatal error, closing')
  } else {
    app.log.info({ signal, delayMs: config.shutdownDelayMs }, 'draining: readiness is now false')
    await sleep(config.shutdownDelayMs)
  }
  await app.close()
  await metricsServer?.close()
  app.log.info('closed')
})

await app.listen({ host: config.host, port: config.port })
if (metricsServer !== undefined) await metricsServer.listen({ host: config.host, port: config.metricsPort as number })

/** JSON lines always; pretty-printed only on an interactive terminal when pino-pretty is installed. */
async function processLogger (level: string) {
  if (process.stdout.isTTY) {
    try {
      const { default: pretty } = await import('pino-pretty')
      return createLogger(level, pretty({ translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' }))
    } catch {
      // production images ship without pino-pretty
    }
  }
  return createLogger(level)
}
