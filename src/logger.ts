// pino logger: JSON lines, an allow-list of what a request log carries, redaction as a second net.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

/** Paths that must never reach a log line even if someone logs the wrong object. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization',
  '*.token', '*.jwt', '*.joinUrl', '*.email', '*.displayName', '*.secret', '*.body',
  'token', 'jwt', 'joinUrl', 'email', 'displayName', 'secret', 'body'
]

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    base: { service: 'jitsi-token-service' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Fastify's default req/res serializers log URLs with query strings and headers: replace them.
    serializers: {
      req: (req: { method?: string, routeOptions?: { url?: string } }) => ({ method: req.method, route: req.routeOptions?.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err
    }
  }
}

export function createLogger (level: string, destination?: DestinationStream): Logger {
  return destination === undefined ? pino(loggerOptions(level)) : pino(loggerOptions(level), destination)
}
