// Container test: the production image, hardened like the Helm chart runs it (read-only root FS,
// no capabilities, uid 1000, secrets as read-only files via *_FILE), real config with secrets made
// here; /readyz, a signed visit whose tokens verify with jose, metrics on their own port, then
// SIGTERM → readiness 503 while draining → exit code 0. Skips only when no container engine answers.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jwtVerify, type JWTPayload } from 'jose'
import t from 'tap'
import { CLIENTS, assertion, iso, visitBody } from '../helper.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const IMAGE = process.env.JTS_TEST_IMAGE ?? 'localhost/jitsi-token-service:test'
const DEFAULT_SOCKETS = ['/run/podman/podman.sock', '/var/run/docker.sock']
const SECRETS_DIR = '/run/secrets/jitsi-token-service'
const SHUTDOWN_DELAY_MS = 3000

// Building the image (first run on a dev box) takes about a minute; the run itself ~10 s.
t.setTimeout(10 * 60_000)

interface Engine { dockerHost: string, podman: boolean }

/** GET on the engine's Docker API; resolves undefined when nothing answers. */
function engineGet (dockerHost: string, path: string): Promise<{ status: number, body: string } | undefined> {
  const target = dockerHost.startsWith('unix://')
    ? { socketPath: dockerHost.slice('unix://'.length) }
    : (() => { const u = new URL(dockerHost.replace(/^tcp:/u, 'http:')); return { host: u.hostname, port: Number(u.port) } })()
  return new Promise((resolve) => {
    const req = http.get({ ...target, path, timeout: 3000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c }).on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', () => resolve(undefined))
    req.on('timeout', () => { req.destroy(); resolve(undefined) })
  })
}

/** The engine to use, undefined when none can run here, or an Error when DOCKER_HOST names a dead one. */
async function findEngine (): Promise<Engine | Error | undefined> {
  const candidates = process.env.DOCKER_HOST !== undefined && process.env.DOCKER_HOST !== ''
    ? [process.env.DOCKER_HOST]
    : DEFAULT_SOCKETS.map((s) => `unix://${s}`)
  for (const dockerHost of candidates) {
    const version = await engineGet(dockerHost, '/version')
    if (version?.status === 200) return { dockerHost, podman: /podman/iu.test(version.body) }
  }
  if (process.env.DOCKER_HOST !== undefined && process.env.DOCKER_HOST !== '') {
    return new Error(`DOCKER_HOST=${process.env.DOCKER_HOST} does not answer; start it with \`bash ci/podman-setup.sh\``)
  }
  return undefined
}

/** Runs ci/build-image.sh --if-stale (podman only): rebuilds when src/, the lockfile or the Dockerfile changed. */
function buildIfStale (): Promise<number> {
  return new Promise((resolve, reject) => {
    // build output goes to stderr so it never mixes with TAP on stdout
    const child = spawn('bash', [join(ROOT, 'ci/build-image.sh'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 2, 2], env: { ...process.env, IMAGE } })
    child.on('error', reject).on('exit', (code) => resolve(code ?? 1))
  })
}

const engine = await findEngine()
if (engine === undefined) {
  t.plan(0, `no container engine reachable (DOCKER_HOST unset, nothing on ${DEFAULT_SOCKETS.join(' or ')}); run \`bash ci/podman-setup.sh\` to enable this test`)
} else if (engine instanceof Error) {
  t.fail(engine.message)
} else {
  await runContainerTests(engine)
}

async function runContainerTests (engine: Engine) {
  process.env.DOCKER_HOST = engine.dockerHost
  // Ryuk's image lives on Docker Hub, which podman here cannot reach; the test removes its own container.
  if (engine.podman) process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'

  if (engine.podman) {
    t.equal(await buildIfStale(), 0, `image ${IMAGE} is built and matches the sources`)
  }
  const image = await engineGet(engine.dockerHost, `/images/${encodeURIComponent(IMAGE)}/json`)
  if (image?.status !== 200) {
    t.fail(`image ${IMAGE} not found on ${engine.dockerHost}: build it with \`bash ci/build-image.sh\``)
    return
  }

  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers')

  /** The hardening the Helm chart applies, so a write to the image's filesystem fails here too. */
  class HardenedContainer extends GenericContainer {
    constructor (name: string) {
      super(name)
      this.hostConfig.ReadonlyRootfs = true
    }
  }

  // Real secrets, made for this run, handed over as read-only files like Kubernetes Secret volumes.
  const gen = () => randomBytes(36).toString('base64url')
  const files: Record<string, string> = {
    JWT_APP_SECRET: gen(),
    ROOM_NAME_SECRET: gen(),
    AUDIT_HASH_SECRET: gen(),
    'clients.json': JSON.stringify(CLIENTS)
  }
  const dir = mkdtempSync(join(tmpdir(), 'jts-secrets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  chmodSync(dir, 0o755)
  for (const [name, value] of Object.entries(files)) {
    writeFileSync(join(dir, name), `${value}\n`, { mode: 0o444 }) // Secrets usually end with a newline
  }

  const env = {
    JITSI_BASE_URL: 'https://meet.clinic.test',
    JWT_APP_ID: 'openemr_telehealth',
    JWT_APP_SECRET_FILE: `${SECRETS_DIR}/JWT_APP_SECRET`,
    ROOM_NAME_SECRET_FILE: `${SECRETS_DIR}/ROOM_NAME_SECRET`,
    AUDIT_HASH_SECRET_FILE: `${SECRETS_DIR}/AUDIT_HASH_SECRET`,
    CLIENTS_FILE: `${SECRETS_DIR}/clients.json`,
    METRICS_PORT: '9464',
    SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
    LOG_LEVEL: 'info'
  }

  const logs: string[] = []
  const startedAt = Date.now()
  const container = await new HardenedContainer(IMAGE)
    .withEnvironment(env)
    .withBindMounts([{ source: dir, target: SECRETS_DIR, mode: 'ro' }])
    .withDroppedCapabilities('ALL')
    .withSecurityOpt('no-new-privileges')
    .withExposedPorts(3000, 9464)
    .withLogConsumer((stream) => stream.on('data', (line: Buffer | string) => logs.push(String(line))))
    .withWaitStrategy(Wait.forHttp('/readyz', 3000).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start()
  t.teardown(async () => { await container.stop({ timeout: 0 }).catch(() => {}) })
  t.comment(`container ready in ${Date.now() - startedAt} ms`)
  const base = `http://${container.getHost()}:${container.getMappedPort(3000)}`
  const metricsBase = `http://${container.getHost()}:${container.getMappedPort(9464)}`

  await t.test('runs as uid 1000 on a read-only root filesystem', async (t) => {
    const id = await container.exec(['id', '-u'])
    t.equal(id.output.trim(), '1000')
    const write = await container.exec(['node', '-e', 'require("fs").writeFileSync("/app/probe", "x")'])
    t.not(write.exitCode, 0, 'writing into /app fails')
    t.match(write.output, /EROFS|read-only/u)
  })

  await t.test('/healthz and /readyz answer 200', async (t) => {
    const health = await fetch(`${base}/healthz`)
    t.equal(health.status, 200)
    t.same(await health.json(), { status: 'ok' })
    const ready = await fetch(`${base}/readyz`)
    t.equal(ready.status, 200)
    t.match(await ready.json(), { status: 'ready' })
  })

  await t.test('an unsigned POST /v1/visits is 401', async (t) => {
    const res = await fetch(`${base}/v1/visits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    t.equal(res.status, 401)
    t.match(res.headers.get('content-type'), /application\/problem\+json/u)
    t.match(await res.json(), { status: 401, code: 'invalid_token' })
  })

  await t.test('a signed visit returns tokens that verify with the Jitsi secret', async (t) => {
    const now = Math.floor(Date.now() / 1000)
    const body = JSON.stringify(visitBody({ appointmentId: `ctr-${randomBytes(4).toString('hex')}`, start: iso(now + 600) }))
    const token = await assertion({ now, path: '/v1/visits', body })
    const res = await fetch(`${base}/v1/visits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body
    })
    t.equal(res.status, 200, 'visit issued')
    const visit = await res.json() as { room: string, tenant: string, roomUrl: string, participants: Array<{ role: string, token: string, joinUrl: string }> }
    t.match(visit.room, /^[a-z2-7]{26}$/u)
    t.equal(visit.roomUrl, `https://meet.clinic.test/clinic-a/${visit.room}`)
    t.equal(visit.participants.length, 2)
    const key = new TextEncoder().encode(files.JWT_APP_SECRET)
    for (const p of visit.participants) {
      const { payload, protectedHeader } = await jwtVerify(p.token, key, {
        algorithms: ['HS256'],
        issuer: 'openemr_telehealth',
        audience: 'jitsi',
        subject: 'clinic-a',
        currentDate: new Date((now + 600) * 1000) // inside the visit window (nbf is start - early join)
      })
      t.equal(protectedHeader.typ, 'JWT')
      t.equal(payload.room, visit.room, `${p.role}: room claim`)
      const user = (payload.context as { user: { moderator: boolean } } | undefined)?.user
      t.equal(user?.moderator, p.role === 'provider', `${p.role}: moderator flag`)
      t.ok(p.joinUrl.startsWith(`${visit.roomUrl}?jwt=`), `${p.role}: join URL carries the token`)
      t.ok(typeof (payload as JWTPayload).exp === 'number' && (payload.exp as number) > now, `${p.role}: exp in the future`)
    }
    await t.rejects(jwtVerify(visit.participants[0]?.token ?? '', new TextEncoder().encode(files.ROOM_NAME_SECRET)), 'another secret does not verify')
  })

  await t.test('metrics are on METRICS_PORT only', async (t) => {
    const metrics = await fetch(`${metricsBase}/metrics`)
    t.equal(metrics.status, 200)
    t.match(await metrics.text(), /# TYPE \w+/u)
    t.equal((await fetch(`${base}/metrics`)).status, 404, 'absent from the API port')
  })

  await t.test('SIGTERM: readiness 503 while draining, then exit code 0', async (t) => {
    const client = await getContainerRuntimeClient()
    const raw = client.container.getById(container.getId())
    const exited = raw.wait() as Promise<{ StatusCode: number }>
    const t0 = Date.now()
    await raw.kill({ signal: 'SIGTERM' })
    // the signal handler runs asynchronously: poll until readiness flips (well inside the delay)
    let draining = 0
    while (Date.now() - t0 < SHUTDOWN_DELAY_MS - 500) {
      draining = await fetch(`${base}/readyz`).then((r) => r.status, () => 0)
      if (draining === 503) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    t.equal(draining, 503, '/readyz is 503 during the drain delay')
    const { StatusCode } = await exited
    const ms = Date.now() - t0
    t.comment(`exited ${ms} ms after SIGTERM`)
    t.equal(StatusCode, 0, 'clean exit code')
    t.ok(ms >= SHUTDOWN_DELAY_MS - 500, `waited for the drain delay (${ms} ms)`)
    t.ok(ms < 15_000, `exited within 15 s (${ms} ms)`)
  })

  await t.test('logs are JSON lines that name the shutdown and never contain a secret', async (t) => {
    await new Promise((resolve) => setTimeout(resolve, 200)) // let the log stream flush
    const text = logs.join('')
    t.match(text, /"msg":"draining: readiness is now false"/u)
    t.match(text, /"msg":"closed"/u)
    for (const [name, value] of Object.entries(files)) {
      if (name !== 'clients.json') t.notOk(text.includes(value), `${name} is not logged`)
    }
    const notJson = text.split('\n').filter((l) => l.trim() !== '').filter((l) => {
      try { JSON.parse(l); return false } catch { return true }
    })
    t.same(notJson, [], 'every log line is JSON')
  })
}
