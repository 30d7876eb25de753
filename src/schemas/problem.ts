// The one error body (RFC 9457 problem details) every non-2xx response uses (contract §7).
import { z } from 'zod'
import { PROBLEM_CODES } from '../errors.js'

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.enum(PROBLEM_CODES as [string, ...string[]]).describe('Stable machine-readable code.'),
  detail: z.string().optional(),
  requestId: z.string(),
  errors: z.array(z.object({ path: z.string().describe('JSON pointer of the field'), rule: z.string().describe('Name of the rule it broke') })).optional()
    .describe('Validation failures; never the received values.'),
  failing: z.array(z.string()).optional().describe('Readiness checks that failed (GET /readyz only).')
}).describe('application/problem+json')
export type Problem = z.infer<typeof ProblemSchema>
