// The error catalogue: every error the API can answer with, one stable `code` each (contract §7).
// Bodies are built from this table only, so no library text or stack ever reaches a client.

export const PROBLEMS = {
  invalid_request: { status: 400, title: 'Bad Request' },
  visit_ended: { status: 400, title: 'Visit Ended' },
  invalid_token: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  request_timeout: { status: 408, title: 'Request Timeout' },
  payload_too_large: { status: 413, title: 'Payload Too Large' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
  header_too_large: { status: 431, title: 'Request Header Fields Too Large' },
  internal: { status: 500, title: 'Internal Server Error' },
  unavailable: { status: 503, title: 'Service Unavailable' }
} as const satisfies Record<string, { status: number, title: string }>

export type ProblemCode = keyof typeof PROBLEMS
export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[]

/** One validation failure: where and which rule, never the received value. */
export interface FieldError { path: string, rule: string }

/** Why an EMR assertion was refused; logged and counted, never sent to the caller. */
export const AUTH_FAILURE_REASONS = [
  'missing_token', 'malformed', 'bad_header', 'wrong_type', 'unknown_client', 'unknown_key',
  'alg_mismatch', 'bad_signature', 'bad_claims', 'wrong_audience', 'expired', 'not_yet_valid',
  'iat_in_future', 'lifetime_too_long', 'htm_mismatch', 'htu_mismatch', 'body_mismatch', 'replay'
] as const
export type AuthFailureReason = typeof AUTH_FAILURE_REASONS[number]

/** An error the API answers with deliberately; anything else becomes `internal`. */
export class ApiError extends Error {
  readonly code: ProblemCode
  readonly statusCode: number
  readonly detail?: string
  readonly errors?: readonly FieldError[]
  readonly headers?: Readonly<Record<string, string>>
  /** readiness checks that failed (503 from /readyz only) */
  readonly failing?: readonly string[]
  constructor (code: ProblemCode, opts: { detail?: string, errors?: readonly FieldError[], headers?: Record<string, string>, failing?: readonly string[] } = {}) {
    super(opts.detail ?? PROBLEMS[code].title)
    this.name = 'ApiError'
    this.code = code
    this.statusCode = PROBLEMS[code].status
    this.detail = opts.detail
    this.errors = opts.errors
    this.headers = opts.headers
    this.failing = opts.failing
  }
}

/**
 * Every authentication failure answers with the same body; the reason travels
 * separately to the log and metrics.
 */
export class AuthError extends ApiError {
  readonly reason: AuthFailureReason
  /** the claimed client id and key id, only when they are safe to log (else "<invalid>") */
  readonly iss?: string
  readonly kid?: string
  constructor (reason: AuthFailureReason, seen: { iss?: unknown, kid?: unknown } = {}) {
    super('invalid_token', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
    this.name = 'AuthError'
    this.reason = reason
    this.iss = loggable(seen.iss)
    this.kid = loggable(seen.kid)
  }
}

const LOGGABLE_ID = /^[A-Za-z0-9._:-]{1,64}$/u
function loggable (v: unknown): string | undefined {
  if (v === undefined) return undefined
  return typeof v === 'string' && LOGGABLE_ID.test(v) ? v : '<invalid>'
}

export const PROBLEM_TYPE_BASE = 'urn:jitsi-token-service:problem:'
