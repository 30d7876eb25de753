// pino logger: JSON lines, an allow-list of what a request log carries, redaction as a second net.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino'

/** Paths that must never reach a log line even if someone logs the wrong object. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization',
  '*.token', '*.jwt', '*.joinUrl', '*.email', '*.displayName', '*.secret', '*.body',
  'token', 'jwt', 'joinUrl', 'email', 'displayName', 'secret', 'body'
]

const CENSOR = '[redacted]'
/** Keys with a serializer below: their nested paths stay with pino, which redacts the serialized value. */
const SERIALIZED_KEYS = new Set(['req', 'res', 'err'])
const NESTED_KEYS = REDACT_PATHS.filter((p) => p.startsWith('*.')).map((p) => p.slice(2))

/**
 * The `*.x` paths, i.e. an own `x` of any top-level object, applied once per line.
 * pino evaluates wildcard-first paths with a generic redactor that it also runs on every string and
 * number of every line and binding (~10 µs per audit line, a third of a 10-participant visit's CPU;
 * docs/performance.md). Output is the same: test/logger.test.ts compares it with pino's own.
 * Loggers made with createLogger (or withNestedRedaction) apply it to child bindings as well.
 */
export function redactNested (obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj
  for (const key in obj) {
    if (SERIALIZED_KEYS.has(key) || !Object.hasOwn(obj, key)) continue
    const value = obj[key]
    if (value === null || typeof value !== 'object') continue
    let copy: Record<string, unknown> | undefined
    for (const name of NESTED_KEYS) {
      if (!Object.hasOwn(value, name)) continue
      copy ??= Array.isArray(value) ? [...value] as unknown as Record<string, unknown> : shallowClone(value)
      copy[name] = CENSOR
    }
    if (copy !== undefined) {
      if (out === obj) out = { ...obj }
      out[key] = copy
    }
  }
  return out
}

function shallowClone (value: object): Record<string, unknown> {
  const clone = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>
  for (const key in value) if (Object.hasOwn(value, key)) clone[key] = (value as Record<string, unknown>)[key]
  return clone
}

/** What pino redacts itself: literal paths, plus the nested ones under serialized keys. */
export const PINO_REDACT_PATHS = [
  ...REDACT_PATHS.filter((p) => !p.startsWith('*.')),
  ...[...SERIALIZED_KEYS].flatMap((k) => NESTED_KEYS.map((n) => `${k}.${n}`))
]

export function loggerOptions (level: string): LoggerOptions {
  return {
    level,
    base: { service: 'jitsi-token-service' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: PINO_REDACT_PATHS, censor: CENSOR },
    formatters: { log: redactNested, bindings: redactNested },
    // Fastify's default req/res serializers log URLs with query strings and headers: replace them.
    serializers: {
      req: (req: { method?: string, routeOptions?: { url?: string } }) => ({ method: req.method, route: req.routeOptions?.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: pino.stdSerializers.err
    }
  }
}

/**
 * Without a destination: stdout, written synchronously. Each audit line is on its way before the
 * response leaves (nothing buffered to lose in a crash), and it is cheaper than pino's default
 * asynchronous stdout, whose buffer re-measures its whole pending string on every line
 * (visits-2p 6.1k → 6.8k req/s, 163 → 147 µs CPU per request; docs/performance.md).
 */
export function createLogger (level: string, destination?: DestinationStream): Logger {
  return withNestedRedaction(pino(loggerOptions(level), destination ?? pino.destination({ dest: 1, sync: true })))
}

/**
 * Child bindings get the same nested pass (pino applies formatters.bindings to the root's bindings
 * only). Children inherit `child` from their parent, so setting it on the root covers every level.
 */
export function withNestedRedaction (logger: Logger): Logger {
  const child = logger.child
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactNested(bindings), options)
  } as Logger['child']
  return logger
}
