// The ceiling: a bare Fastify 5 hello route, logger off, nothing else (see bench/run.mjs).
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
// client-ceiling scenario: takes the visit requests (body unread) so the load generator's own limit shows
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, _body, done) => { done(null, null) })
app.post('/sink', async (_request, reply) => reply.code(204).send())
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3001) })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
