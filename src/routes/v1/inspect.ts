// POST /v1/tokens/inspect: the token doctor over HTTP, for EMR teams debugging "not allowed to
// join" without shell access. Authenticated like every /v1 route. The answer is the checklist
// only: the token and the join URL are bearer credentials and are never echoed back.
import { createPublicKey } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { IssuingDeps } from '../../app.js'
import type { Config } from '../../config.js'
import { DateTimeSchema } from '../../schemas/common.js'
import { inspectToken, type VerifyKey } from '../../services/doctor.js'
import { toSeconds } from '../../services/time-window.js'
import { ISSUING_ERRORS } from './errors.js'

const MAX_ENV_VARS = 200

export const InspectRequestSchema = z.strictObject({
  token: z.string().min(1).max(8192).optional().describe('A Jitsi JWT (compact JWS).'),
  joinUrl: z.string().min(1).max(10240).optional().describe('A join URL carrying the token as ?jwt= or #jwt=%22…%22.'),
  jitsiEnv: z.record(z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/u), z.string().max(2048)).optional()
    .refine((e) => e === undefined || Object.keys(e).length <= MAX_ENV_VARS, { message: `at most ${MAX_ENV_VARS} variables`, params: { rule: 'max_vars' } })
    // The service verifies with its own key; a Jitsi secret must never travel in a request body.
    .refine((e) => e?.JWT_APP_SECRET === undefined, { message: 'JWT_APP_SECRET is not accepted here', params: { rule: 'no_secrets' } })
    .describe('docker-jitsi-meet .env variables (JWT_*, XMPP_*, ENABLE_AUTH, JICOFO_ENABLE_AUTH, ENABLE_AUTO_OWNER…); absent = docker defaults with JWT on.'),
  at: DateTimeSchema.optional().describe('Appointment time to check nbf/exp at.')
}).refine((v) => (v.token === undefined) !== (v.joinUrl === undefined), { message: 'give exactly one of token or joinUrl', params: { rule: 'token_xor_join_url' } })
  .describe('A token or join link to check against a Jitsi configuration.')

const CheckSchema = z.object({
  id: z.string().describe('Stable rule id, e.g. claims.room or jitsi.everyone-moderator.'),
  verdict: z.enum(['pass', 'warn', 'fail']),
  message: z.string()
})

export const InspectResponseSchema = z.object({
  ok: z.boolean().describe('false when any check fails'),
  summary: z.object({ pass: z.number().int(), warn: z.number().int(), fail: z.number().int() }),
  room: z.string().optional(),
  tenant: z.string().optional(),
  checks: z.array(CheckSchema)
}).describe('The doctor checklist; never contains the token.')

/** This service's own signing key, so the doctor can say whether we issued the token. */
function serviceKey (jwt: Config['jwt']): VerifyKey | undefined {
  if (jwt.signType === 'HS256' && jwt.appSecret !== undefined) return { secret: jwt.appSecret, label: "this service's JWT_APP_SECRET" }
  if (jwt.privateKey !== undefined) return { publicKey: createPublicKey(jwt.privateKey), label: "this service's RS256 key" }
  return undefined
}

export default async function inspectRoutes (app: FastifyInstance, deps: IssuingDeps) {
  const { 403: _forbidden, ...errors } = ISSUING_ERRORS
  app.withTypeProvider<ZodTypeProvider>().post('/v1/tokens/inspect', {
    schema: {
      tags: ['issuing'],
      summary: 'Check a Jitsi token or join link against a Jitsi configuration (the token doctor)',
      operationId: 'inspectToken',
      security: [{ emrAssertion: [] }],
      body: InspectRequestSchema,
      response: { 200: InspectResponseSchema, ...errors }
    }
  }, async (request) => {
    const { config, now } = deps.context()
    const body = request.body
    return await inspectToken({
      token: body.token,
      joinUrl: body.joinUrl,
      jitsiEnv: body.jitsiEnv,
      nowS: now,
      atS: body.at !== undefined ? toSeconds(body.at) : undefined,
      key: serviceKey(config.jwt)
    })
  })
}
