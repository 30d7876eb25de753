// The ceiling: a bare Fastify 5 hello route, logger off, nothing else (see bench/run.mjs).
import Fastify from 'fastify'

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3001) })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
