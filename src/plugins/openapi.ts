// OpenAPI 3.1 document generated from the routes' zod schemas (served at /openapi.json,
// committed as openapi.yaml by `npm run openapi`).
import swagger from '@fastify/swagger'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

export const API_VERSION = '1.0.0'

interface OpenApiDocument { paths?: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>> }

/** Error responses are sent as application/problem+json (RFC 9457); say so in the document. */
function problemMediaType<T extends OpenApiDocument> (doc: T): T {
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const json = response.content?.['application/json']
        if (Number(status) >= 400 && json !== undefined) response.content = { 'application/problem+json': json }
      }
    }
  }
  return doc
}

export default fp(async function openapi (app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'jitsi-token-service',
        version: API_VERSION,
        description: 'Turns a signed EMR request into Jitsi Meet join links. Every /v1 request carries a per-request EMR assertion (see README, "Signing a request").',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
      },
      servers: [{ url: '/' }],
      tags: [
        { name: 'issuing', description: 'Join links and tokens' },
        { name: 'operations', description: 'Probes, metrics and this document' }
      ],
      components: {
        securitySchemes: {
          emrAssertion: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (typ emr-request+jwt)', description: 'Per-request assertion bound to method, path and body hash; single use.' }
        }
      }
    },
    transform: jsonSchemaTransform,
    transformObject: (documentObject) => problemMediaType((documentObject as { openapiObject: OpenApiDocument }).openapiObject) as never
  })
}, { name: 'openapi' })
