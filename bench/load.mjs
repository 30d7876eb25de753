// The load generator, run by bench/run.mjs as its own process (pinned to the other core).
//   node bench/load.mjs <spec.json>
/* global fetch */
// Reads a scenario spec, checks one response for correctness, warms up, pre-signs one assertion per
// request, runs autocannon and writes the result to spec.out. Never talks to anything but spec.url.
import { createHash, createHmac, verify as verifySignature } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { assertionSigner, bodyFor } from './assertion.mjs'
import { rssMb } from './proc.mjs'

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const sign = spec.kind !== null ? assertionSigner(spec.client) : undefined

// 256 different appointments (rooms, participant ids) in rotation: the server does the same work
// for any body, and the assertion, not the body, is what must be fresh for every request.
const BODY_VARIANTS = 256
const bodies = spec.kind === null ? [] : Array.from({ length: BODY_VARIANTS }, (_, i) => {
  const body = bodyFor(spec.kind, i)
  return { body, hash: createHash('sha256').update(body).digest('base64url') }
})
let bodySeq = 0

const nowS = () => Math.floor(Date.now() / 1000)

/** One ready-to-send request: a body and a fresh assertion (new jti) over its exact bytes. */
function makeRequest () {
  const { body, hash } = bodies[++bodySeq % BODY_VARIANTS]
  const signedAt = nowS()
  return { body, signedAt, authorization: `Bearer ${sign(spec.method, spec.path, hash, signedAt)}` }
}

class Pool {
  constructor (size) {
    this.items = new Array(size)
    for (let i = 0; i < size; i++) this.items[i] = makeRequest()
    this.next = 0
    this.misses = 0
    this.stale = 0
  }

  take () {
    if (this.next < this.items.length) {
      const item = this.items[this.next]
      this.items[this.next++] = undefined // let sent requests be collected
      // an assertion close to its exp (slow machine, long soak chunk) is replaced, never sent stale
      if (nowS() - item.signedAt < spec.client.lifetime - 15) return item
      this.stale++
      return makeRequest()
    }
    this.misses++
    return makeRequest()
  }
}

function cannonOptions (pool, extra) {
  // The service closes a keep-alive connection after 1000 requests (maxRequestsPerSocket, catalogue R2)
  // and answers 503 to anything sent on it afterwards; real clients reconnect on `Connection: close`,
  // autocannon does not, so it reconnects on its own every 1000 requests.
  const base = { url: spec.url, connections: spec.connections, timeout: 10, reconnectRate: 1000, ...extra }
  if (spec.kind === null) return { ...base, url: spec.url + spec.path, method: spec.method }
  return {
    ...base,
    requests: [{
      method: spec.method,
      path: spec.path,
      setupRequest (req) {
        const item = pool.take()
        req.body = item.body
        req.headers = { 'content-type': 'application/json', authorization: item.authorization }
        return req
      }
    }]
  }
}

const run = (opts) => new Promise((resolve, reject) => {
  autocannon(opts, (err, result) => err ? reject(err) : resolve(result))
})

function summarise (r, seconds, pool) {
  const ok = r['2xx']
  return {
    reqPerSec: Math.round(r.latency.totalCount / seconds),
    okPerSec: Math.round(ok / seconds),
    latencyMs: { p50: r.latency.p50, p97_5: r.latency.p97_5, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    requests: r.latency.totalCount,
    ok,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    errors: r.errors,
    timeouts: r.timeouts,
    resets: r.resets,
    seconds: Math.round(seconds * 100) / 100,
    poolMisses: pool?.misses ?? 0,
    poolStale: pool?.stale ?? 0
  }
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return null
  }
}


/** One request outside the timed run: 200, the expected shape, every token signed by the Jitsi key. */
async function check () {
  if (spec.kind === null) {
    const res = await fetch(spec.url + spec.path)
    return res.status === 200 ? 'ok' : `status ${res.status}`
  }
  const item = makeRequest()
  const res = await fetch(spec.url + spec.path, { method: spec.method, body: item.body, headers: { 'content-type': 'application/json', authorization: item.authorization } })
  const text = await res.text()
  if (spec.sink) return res.status === 204 ? 'ok' : `status ${res.status}`
  if (res.status !== 200) return `status ${res.status}: ${text.slice(0, 200)}`
  const json = JSON.parse(text)
  const results = spec.kind === 'tokens' ? [json] : json.participants
  const want = spec.kind === 'visit10' ? 10 : spec.kind === 'visit2' ? 2 : 1
  if (!Array.isArray(results) || results.length !== want) return `expected ${want} participants`
  const tokens = results.map((p) => p.token)
  if (new Set(tokens).size !== tokens.length) return 'tokens are not distinct'
  for (const token of tokens) {
    const [h, p, s] = token.split('.')
    const header = JSON.parse(Buffer.from(h, 'base64url').toString())
    const ok = header.alg === 'HS256'
      ? createHmac('sha256', Buffer.from(spec.check.jitsiSecret, 'utf8')).update(`${h}.${p}`).digest('base64url') === s
      : header.alg === 'RS256' && verifySignature('RSA-SHA256', Buffer.from(`${h}.${p}`), spec.check.publicKeyPem, Buffer.from(s, 'base64url'))
    if (!ok) return `token signature does not verify (${header.alg})`
  }
  return 'ok'
}

/** Heap and external memory from the service's own /metrics (prom-client default metrics), in MB. */
async function memoryMb () {
  try {
    const text = await (await fetch(spec.url + '/metrics')).text()
    const get = (re) => { const m = re.exec(text); return m === null ? null : Math.round(Number(m[1]) / 104857.6) / 10 }
    return {
      heapUsedMb: get(/^jts_(?:process_)?nodejs_heap_size_used_bytes (\S+)$/mu),
      heapTotalMb: get(/^jts_(?:process_)?nodejs_heap_size_total_bytes (\S+)$/mu),
      externalMb: get(/^jts_(?:process_)?nodejs_external_memory_bytes (\S+)$/mu)
    }
  } catch {
    return {}
  }
}

const out = { name: spec.name }
try {
  out.check = await check()
  if (out.check !== 'ok') throw new Error(`correctness check failed: ${out.check}`)
  if (spec.mode === 'soak') {
    out.samples = []
    const chunks = Math.ceil(spec.soak.total / spec.soak.every)
    out.samples.push({ requests: 0, rssMb: rssMb(spec.serverPid), ...await memoryMb() })
    let done = 0
    for (let c = 0; c < chunks; c++) {
      const amount = Math.min(spec.soak.every, spec.soak.total - done)
      const pool = spec.kind === null ? undefined : new Pool(amount + spec.connections * 2)
      const t0 = performance.now()
      const r = await run(cannonOptions(pool, { amount }))
      const s = summarise(r, (performance.now() - t0) / 1000, pool)
      done += amount
      out.samples.push({ requests: done, rssMb: rssMb(spec.serverPid), ...await memoryMb(), reqPerSec: s.reqPerSec, p99: s.latencyMs.p99, non2xx: s.non2xx, errors: s.errors, statusCodes: s.statusCodes })
    }
  } else {
    let rate = spec.expectedRate ?? 20000
    if (spec.warmup > 0) {
      // Warm-up (JIT on both sides) signs on the fly; its rate sizes the pre-signed pool.
      const warm = new Pool(0)
      const r = await run(cannonOptions(warm, { duration: spec.warmup }))
      out.warmup = summarise(r, spec.warmup, warm)
      rate = Math.max(out.warmup.reqPerSec, 100)
    }
    // the warm-up runs slower than the measured run (JIT, on-the-fly signing): 2× its rate, capped
    const pool = spec.kind === null ? undefined : new Pool(Math.min(3_000_000, Math.ceil(rate * spec.duration * 2) + spec.connections * 2))
    if (pool !== undefined) out.poolSize = pool.items.length
    out.rssBeforeMb = rssMb(spec.serverPid)
    const cpu0 = cpuSeconds(spec.serverPid)
    const r = await run(cannonOptions(pool, { duration: spec.duration }))
    const cpu1 = cpuSeconds(spec.serverPid)
    Object.assign(out, summarise(r, spec.duration, pool))
    out.rssAfterMb = rssMb(spec.serverPid)
    if (cpu0 !== null && cpu1 !== null) {
      // load-independent cost: server CPU per response, and how busy the server's core was
      out.serverCpuUsPerReq = out.requests > 0 ? Math.round((cpu1 - cpu0) * 1e6 / out.requests) : null
      out.serverCpuUtil = Math.round((cpu1 - cpu0) / spec.duration * 100) / 100
    }
  }
} catch (err) {
  out.error = String(err?.message ?? err)
}
writeFileSync(spec.out, JSON.stringify(out, null, 2))
