// npm run bench [-- --duration <s>] [--smoke] [--only <name,...>] [--soak [--soak-requests N]] [--connections N]
//
// Starts each server as a child process (the built dist/server.js with production-like env, or
// bench/hello-server.mjs for the ceiling) pinned to core 0, runs the load generator (bench/load.mjs)
// pinned to core 1, and writes bench/results.json and bench/results.md. Only 127.0.0.1 is used.
// No timing assertion ever fails the run: it exits non-zero only when a scenario could not run.
import { spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { rssMb } from './proc.mjs'
import { renderMarkdown } from './report.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = dirname(HERE)
const args = parseArgs(process.argv.slice(2))
const tmp = mkdtempSync(join(tmpdir(), 'jts-bench-'))
const children = new Set()

const pin = canPin()
const say = (...m) => console.log('[bench]', ...m)

// ---------- secrets, keys, clients (fresh per run, never committed) ----------
const secret = () => randomBytes(32).toString('base64url')
const JITSI_SECRET = secret()
// Assertions live 60 s, the TS client's default (src/client/signer.ts): the service then remembers
// each jti for 90 s (exp + 30 s leeway), so the in-memory replay store holds ~90 s of traffic.
const CLIENT = { iss: 'bench-emr', kid: 'k1', secret: secret(), lifetime: 60 }
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const keyFile = join(tmp, 'jitsi-rs256.pem')
writeFileSync(keyFile, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
const publicKeyPem = rsa.publicKey.export({ type: 'spki', format: 'pem' })

/** The image's NODE_OPTIONS (V8 flags), read from the Dockerfile so the bench runs what ships. */
function imageNodeOptions () {
  const m = /^ENV NODE_OPTIONS=(.+)$/mu.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
  return m === null ? undefined : m[1].trim().replace(/^"(.*)"$/u, '$1')
}
const NODE_OPTIONS = imageNodeOptions()

function serviceEnv (port, extra = {}) {
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NODE_OPTIONS,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    JITSI_BASE_URL: 'https://meet.example.org',
    JWT_APP_ID: 'openemr_telehealth',
    JWT_APP_SECRET: JITSI_SECRET,
    ROOM_NAME_SECRET: secret(),
    AUDIT_HASH_SECRET: secret(),
    CLIENTS_JSON: JSON.stringify([{ id: CLIENT.iss, keys: [{ kid: CLIENT.kid, alg: 'HS256', secret: CLIENT.secret }], tenants: ['clinic-a'] }]),
    // raised out of the way: 1 M per 10 s window per IP / client (the bench is one IP, one client)
    RATE_LIMIT_WINDOW_SECONDS: '10',
    RATE_LIMIT_IP_MAX: '1000000',
    RATE_LIMIT_CLIENT_MAX: '10000000',
    RATE_LIMIT_AUTH_FAIL_MAX: '1000000',
    SHUTDOWN_DELAY_MS: '0',
    // Saturation keeps event-loop utilisation near 1, which would shed load (503) at the default 0.98:
    // switched off like the rate limits. The event-loop lag check (MAX_EVENT_LOOP_DELAY_MS 200) stays.
    MAX_EVENT_LOOP_UTILIZATION: '1',
    ...extra
  }
  // experiments: BENCH_ENV_<NAME>=value reaches the service as <NAME>=value (e.g. BENCH_ENV_MALLOC_ARENA_MAX=2)
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('BENCH_ENV_')) env[k.slice('BENCH_ENV_'.length)] = v
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k]
  return env
}

// ---------- scenarios ----------
const SCENARIOS = [
  { name: 'hello', title: 'bare Fastify 5 GET /hello (ceiling)', server: 'hello', method: 'GET', path: '/hello', kind: null },
  { name: 'client-ceiling', title: 'load generator check: visits-2p requests (pre-signed) to POST /sink on the hello server', server: 'hello', method: 'POST', path: '/sink', kind: 'visit2', sink: true },
  { name: 'visits-2p', title: 'POST /v1/visits, 2 participants', method: 'POST', path: '/v1/visits', kind: 'visit2' },
  { name: 'visits-10p', title: 'POST /v1/visits, 10 participants', method: 'POST', path: '/v1/visits', kind: 'visit10' },
  { name: 'tokens', title: 'POST /v1/tokens', method: 'POST', path: '/v1/tokens', kind: 'tokens' },
  { name: 'visits-2p-redis', title: 'POST /v1/visits, 2 participants, REDIS_URL (replay store + rate limits in Redis)', method: 'POST', path: '/v1/visits', kind: 'visit2', redis: true },
  { name: 'visits-2p-rs256', title: 'POST /v1/visits, 2 participants, JWT_SIGN_TYPE=RS256', method: 'POST', path: '/v1/visits', kind: 'visit2', env: { JWT_SIGN_TYPE: 'RS256', JWT_PRIVATE_KEY_FILE: keyFile, JWT_KID: 'bench-rs256', JWT_APP_SECRET: undefined } }
]

const duration = args.smoke ? 1 : args.duration
const warmup = args.smoke ? 0.5 : Math.min(3, Math.max(1, Math.round(duration / 5)))
const startedAt = new Date()
const meta = {
  startedAt: startedAt.toISOString(),
  commit: git('rev-parse', '--short', 'HEAD'),
  dirty: git('status', '--porcelain', '--untracked-files=no', '--', 'src') !== '',
  node: process.version,
  nodeOptions: NODE_OPTIONS ?? '',
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  pinned: pin,
  connections: args.connections,
  duration,
  warmup,
  smoke: args.smoke,
  loadAvgAtStart: loadavg().map((l) => Math.round(l * 100) / 100)
}

let exitCode = 0
try {
  const resultsPath = join(HERE, args.smoke ? 'results.smoke.json' : 'results.json')
  // --only and --soak merge into an existing results file; a full run starts afresh.
  const partial = args.only !== undefined || args.soak
  const results = partial && existsSync(resultsPath) ? JSON.parse(readFileSync(resultsPath, 'utf8')) : { scenarios: {} }
  results.meta = meta
  results.scenarios ??= {}

  if (args.soak) {
    results.soak = await soak()
  } else {
    const wanted = SCENARIOS.filter((s) => args.only === undefined || args.only.includes(s.name))
    if (wanted.length === 0 && !args.only.includes('cold-start')) throw new Error(`--only matched nothing; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}, cold-start`)
    for (const s of wanted) {
      const r = await scenario(s)
      results.scenarios[s.name] = r
      if (r.error !== undefined) exitCode = 1
      printRow(s.name, r)
    }
    if (args.only === undefined || args.only.includes('cold-start')) results.coldStart = await coldStart(args.smoke ? 1 : 5)
  }
  results.meta.loadAvgAtEnd = loadavg().map((l) => Math.round(l * 100) / 100)
  results.meta.finishedAt = new Date().toISOString()
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n')
  const md = renderMarkdown(results)
  if (!args.smoke) writeFileSync(join(HERE, 'results.md'), md)
  console.log('\n' + md)
} catch (err) {
  console.error('[bench] failed:', err?.stack ?? err)
  exitCode = 1
} finally {
  for (const child of children) child.kill('SIGKILL')
  rmSync(tmp, { recursive: true, force: true })
}
process.exit(exitCode)

// ---------- one scenario ----------
async function scenario (s) {
  const out = { title: s.title, at: new Date().toISOString(), commit: meta.commit, loadAvg1: Math.round(loadavg()[0] * 100) / 100 }
  let redis
  let server
  try {
    const extra = { ...s.env }
    if (s.redis) {
      redis = await startRedis()
      if (redis === undefined) {
        say(`${s.name}: skipped — redis-server not found (apt-get install -y redis-server)`)
        return { ...out, skipped: 'redis-server not installed' }
      }
      extra.REDIS_URL = `redis://127.0.0.1:${redis.port}`
    }
    server = await startServer(s, extra)
    out.startMs = server.readyMs
    out.rssIdleMb = rssMb(server.pid)
    const spec = {
      name: s.name,
      mode: 'run',
      url: `http://127.0.0.1:${server.port}`,
      method: s.method,
      path: s.path,
      kind: s.kind,
      sink: s.sink === true,
      connections: args.connections,
      duration,
      warmup,
      // longer runs need longer-lived assertions: the whole pool is signed before the run starts
      client: { ...CLIENT, lifetime: Math.min(300, Math.max(CLIENT.lifetime, Math.ceil(duration + warmup) + 30)) },
      check: { jitsiSecret: JITSI_SECRET, publicKeyPem },
      serverPid: server.pid
    }
    Object.assign(out, await runLoad(spec))
    if (!server.alive()) out.error = (out.error ?? '') + ` server exited (${server.exitInfo()})`
  } catch (err) {
    out.error = String(err?.message ?? err)
  } finally {
    if (server !== undefined) await server.stop()
    if (redis !== undefined) await redis.stop()
  }
  if (out.error !== undefined && server !== undefined) out.serverStderr = server.stderrTail()
  return out
}

async function runLoad (spec) {
  spec.out = join(tmp, `result-${spec.name}-${Date.now()}.json`)
  const specFile = join(tmp, `spec-${spec.name}.json`)
  writeFileSync(specFile, JSON.stringify(spec))
  const child = launch(pin ? 1 : undefined, process.execPath, [join(HERE, 'load.mjs'), specFile], { stdio: ['ignore', 'inherit', 'inherit'] })
  // bounded: the run's own length plus generous setup time
  const limitMs = spec.mode === 'soak' ? 30 * 60_000 : ((spec.warmup + spec.duration) * 1000 + 120_000)
  const code = await waitExit(child, limitMs)
  if (!existsSync(spec.out)) throw new Error(`load generator exited ${code} without a result`)
  return JSON.parse(readFileSync(spec.out, 'utf8'))
}

// ---------- soak: RSS after 1 M requests, sampled every 100 k ----------
async function soak () {
  const s = SCENARIOS.find((x) => x.name === (args.soakScenario ?? 'visits-2p'))
  say(`soak: ${args.soakRequests} requests on ${s.name}, RSS sampled every ${args.soakEvery}`)
  const redis = s.redis ? await startRedis() : undefined
  if (s.redis && redis === undefined) throw new Error('redis-server not installed')
  const server = await startServer(s, { ...s.env, ...(redis !== undefined ? { REDIS_URL: `redis://127.0.0.1:${redis.port}` } : {}) })
  try {
    const r = await runLoad({
      name: `soak-${s.name}`,
      mode: 'soak',
      url: `http://127.0.0.1:${server.port}`,
      method: s.method,
      path: s.path,
      kind: s.kind,
      connections: args.connections,
      client: CLIENT,
      check: { jitsiSecret: JITSI_SECRET, publicKeyPem },
      serverPid: server.pid,
      soak: { total: args.soakRequests, every: args.soakEvery }
    })
    for (const sample of r.samples ?? []) say(`soak ${String(sample.requests).padStart(8)} requests: RSS ${sample.rssMb} MB, heap used/total ${sample.heapUsedMb}/${sample.heapTotalMb} MB, external ${sample.externalMb} MB${sample.reqPerSec !== undefined ? `, ${sample.reqPerSec} req/s, p99 ${sample.p99} ms, non-2xx ${sample.non2xx}` : ''}`)
    return { scenario: s.name, at: new Date().toISOString(), commit: meta.commit, connections: args.connections, nodeArgs: process.env.BENCH_NODE_ARGS ?? '', loadAvg1: Math.round(loadavg()[0] * 100) / 100, ...r }
  } finally {
    await server.stop()
    await redis?.stop()
  }
}

// ---------- cold start: spawn → /readyz 200 ----------
async function coldStart (runs) {
  const times = []
  for (let i = 0; i < runs; i++) {
    const server = await startServer(SCENARIOS[1], {})
    times.push(server.readyMs)
    await server.stop()
  }
  const sorted = [...times].sort((a, b) => a - b)
  const r = { runs: times, medianMs: sorted[Math.floor(sorted.length / 2)] }
  say(`cold start: median ${r.medianMs} ms of [${times.join(', ')}]`)
  return r
}

// ---------- processes ----------
async function startServer (s, extra) {
  const port = await freePort()
  const isHello = s.server === 'hello'
  // BENCH_SERVER_SCRIPT: try another build of the entry (a bundle, an older dist) under the same harness
  const script = isHello ? join(HERE, 'hello-server.mjs') : (process.env.BENCH_SERVER_SCRIPT ?? join(ROOT, 'dist', 'server.js'))
  if (!existsSync(script)) throw new Error(`${script} missing: run npm run build (npm run bench does)`)
  const env = isHello ? { PATH: process.env.PATH, PORT: String(port) } : serviceEnv(port, extra)
  const stderrFile = join(tmp, `server-${s.name}-${port}.err`)
  const errFd = openSync(stderrFile, 'w')
  // stdout (the info-level JSON log: request and audit lines) goes to /dev/null, as in a pod whose
  // log shipper is elsewhere; LOG_TO=<file> keeps it to look at.
  const outFd = openSync(process.env.BENCH_LOG_FILE ?? '/dev/null', 'a')
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), script]
  const t0 = performance.now()
  const child = launch(pin ? 0 : undefined, process.execPath, nodeArgs, { env, stdio: ['ignore', outFd, errFd] })
  closeSync(errFd)
  closeSync(outFd)
  let exit
  child.once('exit', (code, signal) => { exit = { code, signal } })
  const readyPath = isHello ? '/hello' : '/readyz'
  const deadline = Date.now() + 20_000
  for (;;) {
    if (exit !== undefined) throw new Error(`${s.name} server exited before ready (${JSON.stringify(exit)}): ${tail(stderrFile)}`)
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`${s.name} server not ready within 20 s: ${tail(stderrFile)}`) }
    if (await status(port, readyPath) === 200) break
    await sleep(2)
  }
  const readyMs = Math.round(performance.now() - t0)
  return {
    port,
    pid: child.pid,
    readyMs,
    alive: () => exit === undefined,
    exitInfo: () => JSON.stringify(exit),
    stderrTail: () => tail(stderrFile),
    async stop () {
      if (exit !== undefined) return
      child.kill('SIGTERM')
      if (await waitExit(child, 10_000) === 'timeout') child.kill('SIGKILL')
    }
  }
}

async function startRedis () {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
  if (bin === '') return undefined
  const port = await freePort()
  // On the load generator's core: in production Redis is another machine, not the service's CPU.
  const child = launch(pin ? 1 : undefined, bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--dir', tmp], { stdio: 'ignore' })
  const deadline = Date.now() + 10_000
  while (!(await redisPing(port))) {
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('redis-server did not answer PING within 10 s') }
    await sleep(20)
  }
  return {
    port,
    async stop () {
      child.kill('SIGTERM')
      if (await waitExit(child, 5_000) === 'timeout') child.kill('SIGKILL')
    }
  }
}

function launch (core, cmd, argv, opts) {
  const child = core === undefined ? spawn(cmd, argv, opts) : spawn('taskset', ['-c', String(core), cmd, ...argv], opts)
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

function waitExit (child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms)
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal) })
  })
}

function status (port, path) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let data = ''
    socket.setTimeout(1000, () => socket.destroy())
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`))
    socket.on('data', (d) => { data += d })
    socket.on('error', () => resolve(0))
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/u.exec(data)?.[1] ?? 0)))
  })
}

function redisPing (port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.setTimeout(500, () => { socket.destroy(); resolve(false) })
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')) })
    socket.on('error', () => resolve(false))
  })
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)) })
  })
}

function canPin () {
  if (args.noPin || cpus().length < 2) return false
  return spawnSync('taskset', ['-c', '1', 'true']).status === 0
}


function tail (file) {
  try { return readFileSync(file, 'utf8').slice(-1500) } catch { return '' }
}

function git (...a) {
  const r = spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : ''
}

function sleep (ms) { return new Promise((resolve) => setTimeout(resolve, ms)) }

function printRow (name, r) {
  if (r.skipped !== undefined) return say(`${name}: skipped (${r.skipped})`)
  if (r.error !== undefined) return say(`${name}: ERROR ${r.error}`)
  say(`${name}: ${r.okPerSec} ok req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}, RSS ${r.rssIdleMb} → ${r.rssAfterMb} MB, server ${r.serverCpuUsPerReq} µs CPU/req at ${r.serverCpuUtil} core`)
}

function parseArgs (argv) {
  const a = { duration: 10, smoke: false, only: undefined, soak: false, connections: 50, soakRequests: 1_000_000, soakEvery: 100_000, noPin: false }
  const num = (i) => {
    const v = Number(argv[i])
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i - 1]} needs a positive number`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--duration': a.duration = num(++i); break
      case '--connections': a.connections = Math.floor(num(++i)); break
      case '--smoke': a.smoke = true; break
      case '--only': a.only = String(argv[++i] ?? '').split(',').filter(Boolean); break
      case '--soak': a.soak = true; break
      case '--soak-requests': a.soakRequests = Math.floor(num(++i)); break
      case '--soak-every': a.soakEvery = Math.floor(num(++i)); break
      case '--soak-scenario': a.soakScenario = argv[++i]; break
      case '--no-pin': a.noPin = true; break
      case '--help': console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(0, 6).join('\n')); process.exit(0)
      // eslint-disable-next-line no-fallthrough
      default: throw new Error(`unknown option ${argv[i]}`)
    }
  }
  return a
}
