// Problem responses the issuing routes document in OpenAPI.
import { ProblemSchema } from '../../schemas/problem.js'

export const ISSUING_ERRORS = {
  400: ProblemSchema.describe('invalid_request or visit_ended'),
  401: ProblemSchema.describe('invalid_token (same body for every reason)'),
  403: ProblemSchema.describe('forbidden: tenant, role or custom room not allowed for this client'),
  413: ProblemSchema.describe('payload_too_large (16 KiB)'),
  415: ProblemSchema.describe('unsupported_media_type (application/json only)'),
  429: ProblemSchema.describe('rate_limited, with Retry-After'),
  503: ProblemSchema.describe('unavailable, with Retry-After; safe to retry with a new assertion')
} as const
