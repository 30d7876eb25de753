// The served /openapi.json and the committed openapi.yaml must be the same document.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { build } from './helper.js'

t.test('served document equals committed openapi.yaml (run `npm run openapi` after schema changes)', async (t) => {
  const { app } = await build(t)
  const res = await app.inject('/openapi.json')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const served = res.json()
  const committed = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'))
  t.same(served, committed)
  t.equal(served.openapi, '3.1.0')
})

t.test('the document describes every public route and the problem media type', async (t) => {
  const { app } = await build(t)
  const doc = (await app.inject('/openapi.json')).json()
  for (const path of ['/v1/visits', '/v1/tokens', '/healthz', '/readyz']) t.ok(doc.paths[path], path)
  const visits = doc.paths['/v1/visits'].post
  t.same(visits.security, [{ emrAssertion: [] }])
  t.ok(visits.responses['401'].content['application/problem+json'])
  t.equal(visits.requestBody.content['application/json'].schema.additionalProperties, false, 'strict request body')
})
