// One error shape for every failure: application/problem+json with a stable code (contract §7).
// Library text and stacks stay in the log; 404 and 405 use the same body.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { ApiError, AuthError, PROBLEM_TYPE_BASE, PROBLEMS, type FieldError, type ProblemCode } from '../errors.js'
import { StrictJsonError } from '../lib/strict-json.js'

const STATUS_CODES: Partial<Record<number, ProblemCode>> = {
  400: 'invalid_request', 404: 'not_found', 405: 'method_not_allowed', 413: 'payload_too_large',
  415: 'unsupported_media_type', 429: 'rate_limited', 503: 'unavailable'
}
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

export function sendProblem (request: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  const { status, title } = PROBLEMS[err.code]
  const body = {
    type: PROBLEM_TYPE_BASE + err.code,
    title,
    status,
    code: err.code,
    ...(err.detail !== undefined && err.code !== 'invalid_token' ? { detail: err.detail } : {}),
    requestId: request.id,
    ...(err.errors !== undefined ? { errors: err.errors } : {}),
    ...(err.failing !== undefined ? { failing: err.failing } : {})
  }
  for (const [name, value] of Object.entries(err.headers ?? {})) reply.header(name, value)
  return reply.code(status).type('application/problem+json').send(JSON.stringify(body))
}

/** Maps anything thrown to an ApiError; unknown errors become `internal`. */
export function toApiError (err: FastifyError | Error): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof StrictJsonError) return new ApiError('invalid_request', { detail: 'body is not acceptable JSON', errors: [{ path: err.path, rule: err.rule }] })
  if (hasZodFastifySchemaValidationErrors(err)) return new ApiError('invalid_request', { detail: 'request does not match the schema', errors: fieldErrors(err.validation) })
  const status = (err as FastifyError).statusCode
  if (status === 429) return new ApiError('rate_limited', { headers: retryAfter(err) })
  if (status === 503) return new ApiError('unavailable', { headers: retryAfter(err) ?? { 'retry-after': '5' } })
  if (status !== undefined && status >= 400 && status < 500) return new ApiError(STATUS_CODES[status] ?? 'invalid_request')
  return new ApiError('internal')
}

function retryAfter (err: Error): Record<string, string> | undefined {
  const headers = (err as { headers?: Record<string, unknown> }).headers
  const value = headers?.['retry-after']
  return value === undefined ? undefined : { 'retry-after': String(value) }
}

type ZodValidation = Array<{ keyword: string, instancePath: string, params: Record<string, unknown> }>

function fieldErrors (validation: ZodValidation): FieldError[] {
  return validation.flatMap((v) => {
    // unknown keys: name each key (a key name is not a value), masked when it is not a plain identifier
    if (v.keyword === 'unrecognized_keys' && Array.isArray(v.params.keys)) {
      return (v.params.keys as string[]).map((k) => ({ path: joinPointer(v.instancePath, /^[A-Za-z0-9_.-]{1,64}$/u.test(k) ? k : '<key>'), rule: 'unknown_field' }))
    }
    const custom = (v.params.params as { rule?: string } | undefined)?.rule
    return [{ path: v.instancePath === '/' ? '' : v.instancePath, rule: custom ?? v.keyword }]
  })
}

const joinPointer = (base: string, key: string) => (base === '/' ? '' : base) + '/' + key

export default fp(async function errorHandler (app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const apiError = toApiError(err)
    if (apiError.statusCode >= 500 && apiError.code === 'internal') {
      request.log.error({ err }, 'unhandled error')
    } else if (apiError instanceof AuthError) {
      request.log.info({ reason: apiError.reason, iss: apiError.iss, kid: apiError.kid }, 'emr authentication failed')
    }
    return sendProblem(request, reply, apiError)
  })

  // Rate-limited like every route: unthrottled 404s let a scanner enumerate URLs for free.
  const limit = app.hasDecorator('rateLimit') ? { preHandler: app.rateLimit() } : {}
  app.setNotFoundHandler(limit, (request, reply) => {
    const path = request.url.split('?')[0] as string
    // A known path with another method is 405 with Allow, not 404 (RFC 9110 §15.5.6).
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url: path }))
    if (allowed.length > 0) {
      return sendProblem(request, reply, new ApiError('method_not_allowed', { headers: { allow: allowed.join(', ') } }))
    }
    return sendProblem(request, reply, new ApiError('not_found'))
  })
}, { name: 'error-handler' })
