// JSON only, kept as raw bytes until the caller is authenticated (contract §3 "order of checks"):
// the EMR assertion hashes the exact bytes, and an unauthenticated caller learns nothing about
// the schema. Every other media type, text/plain included, is 415.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export const BODY_LIMIT_BYTES = 16 * 1024

export default fp(async function jsonBody (app: FastifyInstance) {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
    done(null, body)
  })
}, { name: 'json-body' })
