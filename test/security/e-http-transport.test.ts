// Attack catalogue section E — HTTP, transport and resource abuse (rows 48–60). The transport rows
// use raw node:net sockets against a real port on 127.0.0.1 only; every loop is bounded in count
// and time, and every socket is destroyed at teardown (SocketSet). The slow-client rows run with the
// production timeouts (10 s, checked every 1 s) in parallel; the keep-alive row uses the build
// option `timeouts.keepAliveMs` so that it does not wait 72 s.
import http from 'node:http'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { assertion, visitBody } from '../helper.js'
import {
  assert401, breathe, buildSec, collect, goodClaims, HS_HEADER, hs256Raw, listen, RELAXED_ENV, rawExchange, send, sendToken, SocketSet, statuses, visitRaw, VISITS
} from './fixtures.js'

const post = async (app: Parameters<typeof send>[0], raw: string | Buffer, o: Parameters<typeof send>[3] = {}) =>
  await send(app, `Bearer ${await assertion({ body: raw as string })}`, raw, o)

const percentile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number }

t.test('E-48 body over 16 KiB → 413; Content-Length that lies → 400 (or 413 when it claims too much)', async (t) => {
  const { app } = await buildSec(t)
  const big = JSON.stringify(visitBody({ consent: { recording: 'x' }, pad: 'x'.repeat(17 * 1024) }))
  const res = await post(app, big)
  t.equal(res.statusCode, 413, '17 KiB body with a valid assertion → 413')
  t.match(res.json(), { code: 'payload_too_large' }, 'payload_too_large')
  t.equal((await send(app, undefined, big)).statusCode, 413, '17 KiB body without auth → 413 (size before auth)')
  const justUnder = JSON.stringify(visitBody({ appointmentId: 'a'.repeat(100) }))
  t.ok((await post(app, justUnder)).statusCode < 500, 'small body fine')

  const port = await listen(app)
  const sockets = new SocketSet(t)
  const body = visitRaw()
  const token = await assertion({ body })
  const head = (cl: number) => `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${cl}\r\n\r\n`
  // claims more than it sends, then closes its side
  let wire = await rawExchange(sockets, port, head(Buffer.byteLength(body) + 50) + body, { end: true })
  t.same(statuses(wire.data), [400], 'Content-Length larger than the body (then FIN) → 400')
  // sends more than it claims: the rest is parsed as a next request and refused
  wire = await rawExchange(sockets, port, head(Buffer.byteLength(body) - 10) + body)
  t.notOk(statuses(wire.data).includes(200), `Content-Length smaller than the body → ${statuses(wire.data).join(',')}, never 200`)
  t.ok(statuses(wire.data).includes(400), 'the leftover bytes → 400')
  t.ok(wire.closed, 'connection closed')
  // claims more than the limit: refused from the header alone
  wire = await rawExchange(sockets, port, head(1_000_000) + '{}')
  t.same(statuses(wire.data), [413], 'Content-Length: 1 000 000 → 413 without reading the body')
})

t.test('E-49 wrong content types → 415 (no text/plain parser)', async (t) => {
  const { app } = await buildSec(t)
  const raw = visitRaw()
  for (const ct of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json-patch+json',
    'application/merge-patch+json', 'application/jsonx', 'application/xml', 'text/json', 'application/octet-stream', '*/*', 'json']) {
    const res = await post(app, raw, { contentType: ct })
    t.equal(res.statusCode, 415, `${ct} → 415`)
    t.match(res.json(), { code: 'unsupported_media_type' }, `${ct}: unsupported_media_type`)
  }
  const none = await post(app, raw, { contentType: null })
  t.equal(none.statusCode, 415, 'no Content-Type with a body → 415')
  const form = await post(app, 'appointmentId=x&tenant=clinic-a', { contentType: 'application/x-www-form-urlencoded' })
  t.equal(form.statusCode, 415, 'form-encoded visit → 415')
})

t.test('E-50 Content-Type: Application/JSON; charset=UTF-8 → accepted (media types are case-insensitive)', async (t) => {
  const { app } = await buildSec(t)
  for (const ct of ['Application/JSON; charset=UTF-8', 'APPLICATION/JSON', 'application/json;charset=utf-8', 'application/json ; charset="utf-8"']) {
    const res = await post(app, visitRaw(), { contentType: ct })
    t.equal(res.statusCode, 200, `${ct} → 200`)
  }
})

// ---- slow clients with the production timeouts (10 s + 1 s checking interval), run together ----

interface SlowResults {
  loris: Array<{ elapsedMs: number, closed: boolean, status: number | undefined }>
  slowBody: Array<{ elapsedMs: number, closed: boolean, status: number | undefined }>
  baseline: number[]
  during: number[]
  serverTimeouts: { headers: number, request: number, keepAlive: number }
}

let slowRun: Promise<SlowResults> | undefined
/** Starts once (for E-51 and E-52), ~12 s wall time: 500 slowloris sockets + 5 slow bodies + a normal client. */
function slowScenarios (t: Test): Promise<SlowResults> {
  slowRun ??= (async () => {
    const { app } = await buildSec(t)
    const port = await listen(app)
    const sockets = new SocketSet(t)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    t.teardown(() => agent.destroy())
    const get = async () => await new Promise<number>((resolve, reject) => {
      const started = process.hrtime.bigint()
      http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => { res.resume(); res.on('end', () => resolve(Number(process.hrtime.bigint() - started) / 1e6)) }).on('error', reject)
    })
    const baseline: number[] = []
    for (let i = 0; i < 150; i++) baseline.push(await get())

    // 500 slowloris sockets: a request line, then one more header byte every 3 s, never finishing
    const loris: Array<Promise<{ elapsedMs: number, closed: boolean, status: number | undefined }>> = []
    const trickle: Socket[] = []
    for (let batch = 0; batch < 5; batch++) {
      const opened = await Promise.all(Array.from({ length: 100 }, () => sockets.connect(port)))
      for (const s of opened) {
        const started = Date.now()
        loris.push(collect(s, 14_000, started).then((r) => ({ elapsedMs: r.elapsedMs, closed: r.closed, status: statuses(r.data)[0] })))
        s.write(`POST ${VISITS} HTTP/1.1\r\nHost: x\r\nX-Slow: `)
        trickle.push(s)
      }
    }
    const ticker = setInterval(() => { for (const s of trickle) if (!s.destroyed) s.write('a') }, 3000)
    // 5 slow bodies: complete headers, then one body byte per second
    const slowBody: Array<Promise<{ elapsedMs: number, closed: boolean, status: number | undefined }>> = []
    const dribble: Socket[] = []
    for (let i = 0; i < 5; i++) {
      const s = await sockets.connect(port)
      const started = Date.now()
      slowBody.push(collect(s, 14_000, started).then((r) => ({ elapsedMs: r.elapsedMs, closed: r.closed, status: statuses(r.data)[0] })))
      s.write(`POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`)
      dribble.push(s)
    }
    const drip = setInterval(() => { for (const s of dribble) if (!s.destroyed) s.write(' ') }, 1000)
    // a normal client meanwhile
    await sleep(1000)
    const during: number[] = []
    for (let i = 0; i < 150; i++) { during.push(await get()); await sleep(20) }
    const results = { loris: await Promise.all(loris), slowBody: await Promise.all(slowBody) }
    clearInterval(ticker)
    clearInterval(drip)
    const server = app.server
    return { ...results, baseline, during, serverTimeouts: { headers: server.headersTimeout, request: server.requestTimeout, keepAlive: server.keepAliveTimeout } }
  })()
  return slowRun
}

t.test('E-51 slowloris (500 sockets trickling header bytes) → 408/close at headersTimeout + ≤ 1 check interval; other clients unaffected', async (t) => {
  const r = await slowScenarios(t)
  t.equal(r.serverTimeouts.headers, 10_000, 'headersTimeout 10 s (production setting)')
  t.equal(r.loris.length, 500, '500 slow sockets')
  t.equal(r.loris.filter((x) => !x.closed).length, 0, 'every slowloris socket closed by the server')
  const times = r.loris.map((x) => x.elapsedMs)
  t.ok(Math.min(...times) >= 9_500, `not before headersTimeout (earliest ${Math.min(...times)} ms)`)
  t.ok(Math.max(...times) <= 12_500, `by headersTimeout + check interval (+0.5 s slack): latest ${Math.max(...times)} ms`)
  t.ok(r.loris.every((x) => x.status === undefined || x.status === 408), `answered 408 or closed (${[...new Set(r.loris.map((x) => x.status))].join(',')})`)
  const base = percentile(r.baseline, 0.99)
  const during = percentile(r.during, 0.99)
  // 2× a sub-millisecond loopback baseline is below timer noise, so 20 ms of absolute slack is allowed
  t.ok(during < 2 * base + 20, `normal client p99 ${during.toFixed(2)} ms during the attack vs ${base.toFixed(2)} ms baseline`)
})

t.test('E-52 slow body (1 byte/s) → 408 at requestTimeout + ≤ 1 check interval', async (t) => {
  const r = await slowScenarios(t)
  t.equal(r.serverTimeouts.request, 10_000, 'requestTimeout 10 s (production setting)')
  t.equal(r.serverTimeouts.keepAlive, 72_000, 'keepAliveTimeout 72 s (production setting)')
  t.equal(r.slowBody.length, 5, '5 slow bodies')
  for (const x of r.slowBody) {
    t.ok(x.closed, 'closed by the server')
    t.equal(x.status, 408, '408 Request Timeout')
    t.ok(x.elapsedMs >= 9_500 && x.elapsedMs <= 12_500, `after ${x.elapsedMs} ms (10 s + ≤ 1 s)`)
  }
})

t.test('E-53 2 000 idle keep-alive connections → closed after keepAliveTimeout, RSS bounded', async (t) => {
  const keepAliveMs = 3000
  const { app } = await buildSec(t, { build: { timeouts: { keepAliveMs } } })
  const port = await listen(app)
  const sockets = new SocketSet(t)
  const rssBefore = process.memoryUsage().rss
  const results: Array<Promise<{ ok: boolean, closedAfterMs: number }>> = []
  let maxOpen = 0
  const sampler = setInterval(() => { maxOpen = Math.max(maxOpen, sockets.sockets.size) }, 10)
  const openingStarted = Date.now()
  for (let batch = 0; batch < 20; batch++) {
    const opened = await Promise.all(Array.from({ length: 100 }, () => sockets.connect(port)))
    for (const s of opened) {
      results.push(new Promise((resolve) => {
        let data = ''
        let answeredAt = 0
        const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, closedAfterMs: Infinity }) }, keepAliveMs + 8000)
        s.on('data', (c: Buffer) => { data += c.toString('latin1'); if (answeredAt === 0 && data.includes('\r\n\r\n')) answeredAt = Date.now() })
        s.on('close', () => { clearTimeout(timer); resolve({ ok: data.startsWith('HTTP/1.1 200'), closedAfterMs: answeredAt === 0 ? -1 : Date.now() - answeredAt }) })
        s.on('error', () => {})
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n')
      }))
    }
  }
  await sleep(200)
  const openingMs = Date.now() - openingStarted
  const rssOpen = process.memoryUsage().rss
  // a new client is still served while 2 000 connections sit idle
  const probe = await rawExchange(sockets, port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  t.same(statuses(probe.data), [200], 'a new client is served')
  const done = await Promise.all(results)
  clearInterval(sampler)
  t.ok(maxOpen >= 2000, `${maxOpen} idle keep-alive connections held open at once (opened in ${openingMs} ms)`)
  t.equal(done.filter((d) => d.ok).length, 2000, 'all 2 000 got their 200')
  const closed = done.map((d) => d.closedAfterMs)
  t.ok(Math.min(...closed) >= keepAliveMs - 200, `not closed before keepAliveTimeout (earliest ${Math.min(...closed)} ms)`)
  t.ok(Math.max(...closed) <= keepAliveMs + 2500, `closed by the server after keepAliveTimeout (latest ${Math.max(...closed)} ms)`)
  const growthMb = (rssOpen - rssBefore) / 2 ** 20
  t.ok(growthMb < 150, `RSS grew ${growthMb.toFixed(1)} MiB for 2 000 connections (both ends in this process)`)
})

t.test('E-54 request smuggling shapes → 400 from Node\'s parser, connection closed', async (t) => {
  const { app } = await buildSec(t)
  const port = await listen(app)
  const sockets = new SocketSet(t)
  const token = await assertion({ body: '{}' })
  const auth = `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n`
  const cases: Array<[string, string]> = [
    ['Content-Length + Transfer-Encoding', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['Transfer-Encoding + Content-Length', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n{}`],
    ['duplicate differing Content-Length', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}`],
    ['Content-Length list', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2, 40\r\n\r\n{}`],
    ['bare LF line endings', `POST ${VISITS} HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 2\n\n{}`],
    ['bare LF inside the header block', `GET /healthz HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n`],
    ['obs-fold', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n`],
    ['obs-fold on Content-Length', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n 2\r\n\r\n{}`],
    ['Transfer-Encoding: xchunked', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
    ['Transfer-Encoding: chunked, identity', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
    ['space before the colon', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\nContent-Length : 2\r\n\r\n{}`],
    ['invalid chunk size', `POST ${VISITS} HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`]
  ]
  for (const [what, bytes] of cases) {
    const wire = await rawExchange(sockets, port, bytes)
    t.same(statuses(wire.data), [400], `${what} → 400`)
    t.ok(wire.closed, `${what}: connection closed`)
  }
  // Contract §7: every response carries no-store / nosniff and a problem body, the parser-level
  // answers (400, 431, 408) included (src/plugins/client-error.ts).
  for (const bytes of [cases[6]?.[1] as string, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(17 * 1024)}\r\n\r\n`]) {
    const wire = await rawExchange(sockets, port, bytes)
    const head = wire.data.slice(0, wire.data.indexOf('\r\n\r\n')).toLowerCase()
    t.match(head, /cache-control: no-store/u, `parser error ${statuses(wire.data).join(',')}: Cache-Control no-store`)
    t.match(head, /x-content-type-options: nosniff/u, `parser error ${statuses(wire.data).join(',')}: nosniff`)
    t.match(head, /content-type: application\/problem\+json/u, `parser error ${statuses(wire.data).join(',')}: problem+json`)
  }
})

t.test('E-55 flood 10× the limit from one IP / one issuer → 429 + Retry-After; /readyz fast; no 5xx', async (t) => {
  const { app } = await buildSec(t, { env: { RATE_LIMIT_IP_MAX: '20', RATE_LIMIT_CLIENT_MAX: '1000000' } })
  const statusCounts = new Map<number, number>()
  const ready: number[] = []
  let firstLimited = -1
  let retryAfter: string | undefined
  for (let i = 0; i < 200; i++) {
    const res = await post(app, visitRaw(), { remoteAddress: '192.0.2.10' })
    statusCounts.set(res.statusCode, (statusCounts.get(res.statusCode) ?? 0) + 1)
    if (res.statusCode === 429 && firstLimited < 0) { firstLimited = i; retryAfter = res.headers['retry-after'] as string }
    if (i % 5 === 0) {
      const started = process.hrtime.bigint()
      const r = await app.inject({ url: '/readyz', remoteAddress: '192.0.2.10' })
      ready.push(Number(process.hrtime.bigint() - started) / 1e6)
      t.equal(r.statusCode, 200, '/readyz stays 200 (exempt)')
    }
  }
  t.equal(firstLimited, 20, 'the 21st request is the first 429')
  t.equal(statusCounts.get(200), 20, '20 × 200 within the limit')
  t.equal(statusCounts.get(429), 180, '180 × 429 after it')
  t.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`)
  t.same([...statusCounts.keys()].filter((s) => s >= 500), [], 'no 5xx')
  t.ok(percentile(ready, 0.99) < 100, `/readyz p99 ${percentile(ready, 0.99).toFixed(2)} ms < 100 ms`)
  // per issuer after authentication: many addresses, one EMR client
  const perClient = await buildSec(t, { env: { RATE_LIMIT_IP_MAX: '1000000', RATE_LIMIT_CLIENT_MAX: '10' } })
  const seen: number[] = []
  for (let i = 0; i < 100; i++) seen.push((await post(perClient.app, visitRaw(), { remoteAddress: `198.51.100.${i + 1}` })).statusCode)
  t.same(seen.slice(0, 10), Array(10).fill(200), 'issuer: 10 × 200')
  t.same(seen.slice(10), Array(90).fill(429), 'issuer: then 429 from every address')
})

t.test('E-56 auth-failure flood from one IP → 429 after N failures (stricter than the normal limit)', async (t) => {
  const { app } = await buildSec(t, { env: { RATE_LIMIT_IP_MAX: '1000', RATE_LIMIT_AUTH_FAIL_MAX: '5' } })
  const ip = '203.0.113.7'
  const seen: number[] = []
  for (let i = 0; i < 20; i++) {
    const body = visitRaw()
    seen.push((await sendToken(app, hs256Raw(HS_HEADER, goodClaims({ body })) + 'x', body, { remoteAddress: ip })).statusCode)
  }
  t.same(seen.slice(0, 5), Array(5).fill(401), 'the first 5 bad tokens: 401')
  t.same(seen.slice(5), Array(15).fill(429), 'then 429')
  // the address stays refused even with a valid assertion (no signature check is spent on it)
  const valid = await post(app, visitRaw(), { remoteAddress: ip })
  t.equal(valid.statusCode, 429, 'valid assertion from the flooding address: 429')
  t.ok(Number(valid.headers['retry-after']) >= 1, 'Retry-After')
  t.equal((await post(app, visitRaw(), { remoteAddress: '203.0.113.8' })).statusCode, 200, 'another address unaffected')
  t.ok(5 < 1000, 'failure budget (5) far below the normal per-IP budget (1 000)')
})

t.test('E-57 spoofed X-Forwarded-For: ignored without trustProxy, honoured only from the trusted ingress range', async (t) => {
  const limited = async (env: Record<string, string>, remoteAddress: string) => {
    const { app } = await buildSec(t, { env: { ...env, RATE_LIMIT_IP_MAX: '5' } })
    const seen: number[] = []
    for (let i = 0; i < 8; i++) seen.push((await app.inject({ url: '/nope', remoteAddress, headers: { 'x-forwarded-for': `10.9.${i}.1` } })).statusCode)
    return seen
  }
  t.same(await limited({}, '192.0.2.50'), [404, 404, 404, 404, 404, 429, 429, 429], 'no trustProxy: one budget for the direct address, whatever XFF says')
  t.same(await limited({ TRUST_PROXY: '10.0.0.0/8' }, '192.0.2.50'), [404, 404, 404, 404, 404, 429, 429, 429], 'XFF from outside the ingress range: ignored')
  t.same(await limited({ TRUST_PROXY: '10.0.0.0/8' }, '10.0.0.5'), Array(8).fill(404), 'XFF from the ingress range: each client address has its own budget')
})

t.test('E-58 unknown routes and methods → 404/405, no route confusion', async (t) => {
  const { app } = await buildSec(t)
  const cases: Array<[string, string, number]> = [
    ['TRACE', VISITS, 405], ['PUT', VISITS, 405], ['DELETE', VISITS, 405], ['GET', VISITS, 405], ['OPTIONS', VISITS, 405], ['PATCH', '/v1/tokens', 405],
    ['PUT', '/v1/join', 404], ['POST', '/v1/join', 404], ['POST', '/v1/join/../admin', 404], ['POST', '/v1/visits/../admin', 404], ['POST', '//v1/visits', 404],
    ['POST', '/v1//visits', 404], ['POST', '/V1/VISITS', 404], ['POST', '/v1/visits/extra', 404], ['POST', '/v1/visits%2f..%2fadmin', 404], ['POST', '/admin', 404],
    ['GET', '/' + 'a'.repeat(200), 404], ['GET', `/v1/${'p'.repeat(200)}`, 404], ['POST', '/v2/visits', 404], ['GET', '/.env', 404]
  ]
  for (const [method, url, expected] of cases) {
    const res = await app.inject({ method: method as 'GET', url, headers: { 'content-type': 'application/json' }, payload: method === 'GET' || method === 'TRACE' || method === 'OPTIONS' ? undefined : '{}' })
    t.equal(res.statusCode, expected, `${method} ${url.slice(0, 40)} → ${expected}`)
    t.match(res.json(), { code: expected === 404 ? 'not_found' : 'method_not_allowed' }, 'problem body')
    t.notOk(res.body.includes('admin') || res.body.includes('aaaa'), 'path not echoed')
    if (expected === 405) t.ok(typeof res.headers.allow === 'string', 'Allow header')
  }
  // dot segments as sent on the wire (inject would normalise them): never resolved by the router
  const port = await listen(app)
  const sockets = new SocketSet(t)
  for (const [method, target] of [['POST', '/v1/join/../admin'], ['POST', '/v1/visits/../visits'], ['GET', '/healthz/../metrics'], ['POST', '/v1/./visits'], ['POST', '/v1/visits/%2e%2e/tokens']]) {
    const wire = await rawExchange(sockets, port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`)
    t.same(statuses(wire.data), [404], `raw ${method} ${target} → 404`)
  }
  // CONNECT is not routed at all: Node drops the socket
  const wire = await rawExchange(sockets, port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n')
  t.ok(wire.closed && !wire.data.includes('200'), 'CONNECT refused')
})

t.test('E-59 query strings on POST: never used, never logged', async (t) => {
  const { app, logs } = await buildSec(t)
  const body = visitRaw()
  // htu covers the full request-target, so a query appended by anyone breaks the assertion (contract §2)
  assert401(t, await sendToken(app, await assertion({ body }), body, { path: `${VISITS}?patient=Jane+Doe&dob=1970-01-01` }), 'POST /v1/visits?patient=… → 401')
  const probe = await app.inject({ url: '/healthz?patient=Jane+Doe&dob=1970-01-01' })
  t.equal(probe.statusCode, 200, 'GET /healthz?patient=… → 200 (ignored)')
  await app.inject({ method: 'POST', url: '/nope?patient=Jane+Doe', payload: '{}', headers: { 'content-type': 'application/json' } })
  t.notMatch(logs.text, /Jane|1970-01-01|patient=/u, 'query never logged')
  const routes = logs.records().filter((r) => r.msg === 'request completed').map((r) => r.route)
  t.ok(routes.includes('/v1/visits') && routes.includes('/healthz'), 'route templates logged instead of URLs')
})

t.test('E-60 event-loop stall → 503 + Retry-After from under-pressure; liveness unaffected', async (t) => {
  // the production pressure settings (200 ms mean delay), limits relaxed so only pressure can refuse
  const env: Record<string, string | undefined> = { ...RELAXED_ENV, MAX_EVENT_LOOP_DELAY_MS: undefined }
  const { app } = await buildSec(t, { env })
  const body = visitRaw()
  t.equal((await post(app, body)).statusCode, 200, 'before the stall: 200')
  // a handler that blocks for 300 ms at a time, back to back for ~1.5 s (two under-pressure samples)
  const until = Date.now() + 1600
  while (Date.now() < until) {
    const end = Date.now() + 300
    while (Date.now() < end) { /* busy */ }
    await new Promise((resolve) => setImmediate(resolve))
  }
  let refused: Awaited<ReturnType<typeof post>> | undefined
  let live = 0
  for (let i = 0; i < 10 && refused === undefined; i++) {
    const res = await post(app, visitRaw())
    if (res.statusCode === 503) refused = res
    if ((await app.inject('/healthz')).statusCode === 200) live++
    await sleep(20)
  }
  t.ok(refused !== undefined, 'a /v1 request during the stall window: 503')
  t.equal(refused?.headers['retry-after'], '5', 'Retry-After: 5')
  t.match(refused?.json(), { code: 'unavailable' }, 'problem code unavailable')
  t.ok(live > 0, 'liveness answered 200 meanwhile')
  // recovery once the loop is idle again
  let recovered = false
  for (let i = 0; i < 40 && !recovered; i++) {
    await sleep(100)
    await breathe()
    recovered = (await post(app, visitRaw())).statusCode === 200
  }
  t.ok(recovered, 'back to 200 after the stall')
})
