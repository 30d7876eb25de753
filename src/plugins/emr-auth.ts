// EMR authentication as a preValidation hook: verify the assertion over the raw body bytes,
// then (and only then) parse the JSON strictly. Applied to /v1 by encapsulation in routes/v1.
import type { FastifyInstance, FastifyRequest, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { verifyAssertion, type VerifiedCaller, type VerifierDeps } from '../auth/assertion.js'
import { AuthError } from '../errors.js'
import { parseStrictJson } from '../lib/strict-json.js'

declare module 'fastify' {
  interface FastifyInstance {
    emrAuth: preValidationAsyncHookHandler
  }
  interface FastifyRequest {
    caller: VerifiedCaller | null
  }
}

export interface EmrAuthOptions {
  verifier: VerifierDeps
  nowMs: () => number
}

const EMPTY = Buffer.alloc(0)

/** Node keeps only the first of repeated Authorization headers; two of them is an attack, not a typo. */
function authorizationHeaderCount (request: FastifyRequest): number {
  const raw = request.raw.rawHeaders
  let n = 0
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'authorization') n++
  return n
}

export default fp<EmrAuthOptions>(async function emrAuth (app: FastifyInstance, opts) {
  app.decorateRequest('caller', null)
  app.decorate('emrAuth', async function (request: FastifyRequest) {
    if (authorizationHeaderCount(request) > 1) throw new AuthError('malformed')
    const raw = Buffer.isBuffer(request.body) ? request.body : EMPTY
    request.caller = await verifyAssertion({
      authorization: request.headers.authorization,
      method: request.method,
      target: request.url,
      body: raw,
      nowMs: opts.nowMs()
    }, opts.verifier)
    request.body = request.body === undefined ? undefined : parseStrictJson(raw)
  })
}, { name: 'emr-auth' })
