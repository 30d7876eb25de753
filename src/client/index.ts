// jitsi-token-service/client: a typed client for the EMR side. Types come from openapi.yaml
// (`npm run client:types` → api.d.ts); openapi-fetch sends the requests; a middleware signs
// each one with a fresh single-use assertion over the exact bytes it is about to send.
import type { KeyObject } from 'node:crypto'
import createClient, { type Middleware } from 'openapi-fetch'
import type { operations, paths } from './api.js'
import { createAssertionSigner, type AssertionAlg, type AssertionSigner } from './signer.js'

export { ASSERTION_ALGS, bodySha256, createAssertionSigner, type AssertionAlg, type AssertionSigner, type RequestToSign, type SignerOptions } from './signer.js'
export type { components, operations, paths } from './api.js'

type JsonBody<Op> = Op extends { requestBody: { content: { 'application/json': infer B } } } ? B : never
type JsonOk<Op> = Op extends { responses: { 200: { content: { 'application/json': infer R } } } } ? R : never

export type VisitRequest = JsonBody<operations['createVisit']>
export type VisitResponse = JsonOk<operations['createVisit']>
export type TokenRequest = JsonBody<operations['createToken']>
export type TokenResponse = JsonOk<operations['createToken']>
export type InspectRequest = JsonBody<operations['inspectToken']>
export type InspectReport = JsonOk<operations['inspectToken']>
export type Problem = operations['createVisit']['responses'][401]['content']['application/problem+json']

/** Any non-2xx answer or transport failure, with the problem `code` (contract §7). */
export class JitsiTokenError extends Error {
  /** problem code (e.g. invalid_token), or `network_error` / `http_<status>` without a problem body */
  readonly code: string
  /** HTTP status; 0 when no response arrived */
  readonly status: number
  readonly requestId?: string
  readonly problem?: Problem
  constructor (code: string, status: number, message: string, problem?: Problem) {
    super(message)
    this.name = 'JitsiTokenError'
    this.code = code
    this.status = status
    this.problem = problem
    this.requestId = problem?.requestId
  }
}

export interface JitsiTokenClientOptions {
  /** where the service listens, e.g. https://tokens.internal:3000 */
  baseUrl: string
  /** the registered client id (`iss`) */
  clientId: string
  /** HMAC secret string, PEM private key, or KeyObject */
  key: string | KeyObject
  alg?: AssertionAlg
  kid?: string
  /** the service's SERVICE_AUDIENCE (default jitsi-token-service) */
  audience?: string
  /** the EMR user acting (`sub`) when a call names none; default: the client id */
  actor?: string
  /** custom fetch (tests, proxies) */
  fetch?: (input: Request) => Promise<Response>
}

export interface CallOptions {
  /** the EMR user acting for this call, recorded by the service's audit log */
  actor?: string
  signal?: AbortSignal
}

export interface JitsiTokenClient {
  createVisit (body: VisitRequest, call?: CallOptions): Promise<VisitResponse>
  createToken (body: TokenRequest, call?: CallOptions): Promise<TokenResponse>
  /** the token doctor (POST /v1/tokens/inspect); the report never contains the token */
  inspectToken (body: InspectRequest, call?: CallOptions): Promise<InspectReport>
}

/** Signs the request as it will be sent: method, path and the body bytes openapi-fetch produced. */
function signing (sign: AssertionSigner, actor: string): Middleware {
  return {
    async onRequest ({ request }) {
      const body = new Uint8Array(await request.clone().arrayBuffer())
      const assertion = await sign({ method: request.method, path: new URL(request.url).pathname, body, actor })
      request.headers.set('authorization', `Bearer ${assertion}`)
      return request
    }
  }
}

function toError (response: Response | undefined, error: unknown): JitsiTokenError {
  const status = response?.status ?? 0
  const problem = typeof error === 'object' && error !== null && typeof (error as Problem).code === 'string' ? error as Problem : undefined
  const code = problem?.code ?? `http_${status}`
  return new JitsiTokenError(code, status, `jitsi-token-service answered ${status} ${code}${problem?.detail !== undefined ? `: ${problem.detail}` : ''}`, problem)
}

export function createJitsiTokenClient (opts: JitsiTokenClientOptions): JitsiTokenClient {
  const sign = createAssertionSigner({ clientId: opts.clientId, key: opts.key, alg: opts.alg, kid: opts.kid, audience: opts.audience })
  const api = createClient<paths>({ baseUrl: opts.baseUrl.replace(/\/+$/u, ''), ...(opts.fetch !== undefined ? { fetch: opts.fetch } : {}) })
  const defaultActor = opts.actor ?? opts.clientId

  // openapi-fetch resolves with { data } or { error }; callers get the data or one exception type.
  async function call<T> (run: (middleware: Middleware[]) => Promise<{ data?: T, error?: unknown, response: Response }>, c?: CallOptions): Promise<T> {
    let result: { data?: T, error?: unknown, response: Response }
    try {
      result = await run([signing(sign, c?.actor ?? defaultActor)])
    } catch (err) {
      throw new JitsiTokenError('network_error', 0, `jitsi-token-service unreachable: ${(err as Error).message}`)
    }
    if (result.data === undefined || !result.response.ok) throw toError(result.response, result.error)
    return result.data
  }

  return {
    createVisit: async (body, c) => await call((middleware) => api.POST('/v1/visits', { body, middleware, signal: c?.signal }), c),
    createToken: async (body, c) => await call((middleware) => api.POST('/v1/tokens', { body, middleware, signal: c?.signal }), c),
    inspectToken: async (body, c) => await call((middleware) => api.POST('/v1/tokens/inspect', { body, middleware, signal: c?.signal }), c)
  }
}
